"""Queueing outgoing messages in the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from models.notifications import Outbox
from web.core.clock import now


def email(
    to: str,
    subject: str,
    body: str,
    attachments: list[dict[str, str]] | None = None,
    *,
    urgent: bool = False,
) -> Outbox:
    """An email for the outbox, not yet queued. `urgent` is for a link someone is waiting for:
    it goes ahead of any queue of alerts."""
    return Outbox(
        channel="email",
        recipient=to,
        subject=subject,
        body=body,
        attachments=attachments or [],
        next_attempt_at=now(),
        priority=0 if urgent else 1,
    )


async def enqueue_email(to: str, subject: str, body: str, **options: Any) -> Outbox:
    """Queue an email (`options` as for `email`). Call inside the transaction of the change
    that causes it, so both happen or neither does; the worker sends it."""
    queued = email(to, subject, body, **options)
    await queued.save()
    return queued


async def enqueue(messages: list[Outbox]) -> None:
    """Queue several messages in one statement (inside the caller's transaction)."""
    if messages:
        await Outbox.bulk_create(messages)
