"""Writing audit events: one call per audited action."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from models.audit import AuditEvent
from web.core.clock import now


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def event(
    request: Request | None,
    action: str,
    *,
    actor_id: int | None = None,
    client_id: int | None = None,
    area_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """An audit event, not yet written. The actor defaults to the signed-in practitioner."""
    if actor_id is None and request is not None and request.state.practitioner is not None:
        actor_id = request.state.practitioner.id
    return AuditEvent(
        at=now(),  # the app's clock, which the 07:00 digest's guard compares with
        action=action,
        actor_id=actor_id,
        client_id=client_id,
        area_id=area_id,
        ip=client_ip(request) if request is not None else "",
        detail=detail,
    )


async def record_all(events: list[AuditEvent]) -> None:
    """Write several events in one statement (a search's groups, say)."""
    await AuditEvent.bulk_create(events)


async def record(request: Request | None, action: str, **fields: Any) -> AuditEvent:
    """Record who did what, now (the fields are `event`'s)."""
    made = event(request, action, **fields)
    await made.save()
    return made
