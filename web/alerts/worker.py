"""The delivery worker: sends what the outbox holds, once each, retrying with backoff.

Several workers may run at once. Each claims a row with a conditional UPDATE
(only one can win it); on PostgreSQL candidates are read `FOR UPDATE SKIP LOCKED`
so workers do not even queue behind each other. A claim is a lease
(OUTBOX_LEASE_SECONDS): a worker that dies mid-send leaves the row to be retried when the
lease runs out, and a worker whose batch outlasts its lease stops and releases the rest, so
no row is ever held by two workers at once. Each row is marked sent straight after its own
send, so a crash can repeat at most the one message in flight; an email carries a Message-ID
derived from its row (mail.message_id), so a receiver can tell such a repeat for what it is.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta

import aiosmtplib
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models.auth import Session, SignInToken, WebAuthnChallenge
from models.family import FamilyCard
from models.notifications import Outbox, PushSubscription
from models.teams import JoinCode
from web.alerts import mail, push
from web.core import (
    alerts,
    audit_chain,
    checkins,
    council_figures,
    db,
    family,
    jobs,
    ratelimit,
    retention,
)
from web.core.clock import now
from web.core.settings import Settings

log = logging.getLogger("patchwork.worker")

BATCH = 20
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
MAX_ATTEMPTS = 10
#: How long the outbox keeps a sent message (for an operator's questions), and a given-up one
#: (what monitoring reads: docs/DEPLOYMENT.md, section 11).
SENT_KEPT = timedelta(days=7)
FAILED_KEPT = timedelta(days=30)
#: How often the scheduled jobs run.
SCHEDULE_SECONDS = 300


def backoff(attempts: int, first: timedelta = FIRST_RETRY) -> timedelta:
    """30 s (OUTBOX_FIRST_RETRY_SECONDS), 1 min, 2 min, … capped at 6 hours."""
    return min(first * (2 ** max(attempts - 1, 0)), LONGEST_WAIT)


def lease(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.outbox_lease_seconds)


def first_retry(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.outbox_first_retry_seconds)


async def claim_due(limit: int = BATCH, held_for: timedelta = LEASE) -> list[Outbox]:
    """Take up to `limit` due messages for this worker, each for a lease of `held_for`."""
    moment = now()
    due = Q(sent_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=moment) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=moment)
    )
    claimed: list[Outbox] = []
    async with in_transaction():
        candidates = (
            await Outbox.filter(due)
            .order_by("priority", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for item in candidates:
            won = await Outbox.filter(due, id=item.id).update(
                locked_until=moment + held_for, attempts=F("attempts") + 1
            )
            if won:
                item.attempts += 1
                item.locked_until = moment + held_for
                claimed.append(item)
    return claimed


async def deliver(settings: Settings, item: Outbox) -> None:
    if item.channel == "email":
        await mail.send(settings, mail.build_message(settings, item))
    elif item.channel == "push":
        subscription = await PushSubscription.get_or_none(id=int(item.recipient))
        if subscription is None:
            raise push.SubscriptionGone("subscription removed before sending")
        try:
            await push.send(settings, subscription, item.body)
        except push.SubscriptionGone:
            await subscription.delete()
            raise
    else:
        raise ValueError(f"unknown channel {item.channel!r}")


async def deliver_due(settings: Settings) -> int:
    """Send every due message once; return how many were attempted. A message is marked sent
    as soon as it is; once the lease has run out, the rest of the batch is released untried
    (another worker may already hold it)."""
    items = await claim_due(held_for=lease(settings))
    for index, item in enumerate(items):
        if item.locked_until is not None and now() >= item.locked_until:
            await _release(items[index:])
            return index
        try:
            await deliver(settings, item)
        except Exception as error:  # noqa: BLE001 — any failure is recorded and retried
            await _failed(item, error, first_retry(settings))
        else:
            await Outbox.filter(id=item.id).update(sent_at=now(), locked_until=None, last_error="")
        if item.channel == "email":
            # A family's card went to an address nobody is to keep: emptied once done (and by
            # `tidy`, should this process stop in between).
            await family.forget_sent_emails([item.id])
    return len(items)


async def _release(items: list[Outbox]) -> None:
    """Give back rows claimed but not tried, with their attempt uncounted; only while this
    worker's lease is still the one on them."""
    for item in items:
        await Outbox.filter(
            id=item.id, locked_until=item.locked_until, sent_at__isnull=True
        ).update(locked_until=None, attempts=F("attempts") - 1)


def described(error: Exception, recipient: str = "") -> str:
    """What the log says of a failure: its kind and text with the message's own address and
    anything else shaped like one masked (a mail server's reply quotes the address back, and
    a family's is to be kept nowhere)."""
    text = f"{type(error).__name__}: {error}"
    if "@" in recipient:
        text = text.replace(recipient, "[address]")
    return ADDRESS.sub("[address]", text)[:300]


#: Anything shaped like an email address, as a server's reply may quote it.
ADDRESS = re.compile(r"[^\s<>\"(),;:\[\]]+@[^\s<>'\"(),;:]+")
#: A mailbox that does not exist, or may not: no retry mends it (RFC 5321 550, 551, 553). A
#: 5.7.x status is a policy refusal (a relay or sender check), which the operator can mend.
NO_SUCH_MAILBOX = (550, 551, 553)


def permanent(error: Exception) -> bool:
    """A failure no retry mends: the push subscription is gone, or the mail server refused
    every recipient as a mailbox that does not exist."""
    if isinstance(error, push.SubscriptionGone):
        return True
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(map(_no_such_mailbox, error.recipients))
    return isinstance(error, aiosmtplib.SMTPRecipientRefused) and _no_such_mailbox(error)


def _no_such_mailbox(refused: aiosmtplib.SMTPRecipientRefused) -> bool:
    return refused.code in NO_SUCH_MAILBOX and "5.7." not in refused.message


async def _failed(item: Outbox, error: Exception, first: timedelta = FIRST_RETRY) -> None:
    message = f"{type(error).__name__}: {error}"[:500]
    log.warning(
        "outbox %s attempt %s failed: %s", item.id, item.attempts, described(error, item.recipient)
    )
    changes: dict[str, object] = {"last_error": message, "locked_until": None}
    if item.attempts >= MAX_ATTEMPTS or permanent(error):
        changes["failed_at"] = now()
    else:
        changes["next_attempt_at"] = now() + backoff(item.attempts, first)
    await Outbox.filter(id=item.id).update(**changes)


async def tidy(settings: Settings) -> None:
    """Delete what has expired: a card's email done with and an expired card's recipient,
    messages sent a week ago or given up a month ago, old rate-limit hits, spent links,
    challenges and join codes, dead sessions."""
    moment = now()
    await family.forget_sent_emails(None)  # any a stopped worker left
    # Whom an expired card went to is needed no more (a withdrawn one's went at once).
    await FamilyCard.filter(~Q(recipient=""), expires_at__lte=moment).update(recipient="")
    await Outbox.filter(sent_at__lt=moment - SENT_KEPT).delete()
    await Outbox.filter(sent_at__isnull=True, failed_at__lt=moment - FAILED_KEPT).delete()
    await ratelimit.forget_old()
    await SignInToken.filter(expires_at__lt=moment - timedelta(days=1)).delete()
    await JoinCode.filter(expires_at__lt=moment - timedelta(days=1)).delete()
    await WebAuthnChallenge.filter(expires_at__lt=moment - timedelta(days=1)).delete()
    await Session.filter(
        Q(created_at__lt=moment - timedelta(days=settings.session_absolute_days))
        | Q(last_seen_at__lt=moment - timedelta(hours=settings.session_idle_hours))
    ).delete()


async def scheduled(settings: Settings) -> None:
    """The slow jobs, a few times an hour: check-ins, lapses, the 07:00 digest, retention
    (daily), tidying, the administration overview's counts per council, then sealing the
    audit trail."""
    await checkins.ask_for_checkins(settings)
    await checkins.tell_teams_about_lapses(settings)
    await send_digests_once(settings)
    await retention.daily(settings)
    await tidy(settings)
    if db.dialect() == "postgres":  # an embedded SQLite deployment is small: counted live
        await council_figures.refresh_due()
    await audit_chain.seal_all()


#: PostgreSQL advisory lock held while one worker decides whether to send the digest.
DIGEST_LOCK = 0x70770DD1


async def send_digests_once(settings: Settings) -> None:
    """The 07:00 digest, once a day however many workers run (web/core/jobs.py)."""

    async def send() -> dict[str, int]:
        return {"practitioners": await alerts.send_digests(settings)}

    def due(last: datetime | None) -> bool:
        return alerts.digest_due(settings, last, now())

    await jobs.once("job.digest", DIGEST_LOCK, due, send)


async def run(settings: Settings, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
    """Deliver until `stop` is set; every few minutes, run the scheduled jobs."""
    log.info("delivery worker started")
    last_scheduled = 0.0
    while not stop.is_set():
        try:
            if asyncio.get_running_loop().time() - last_scheduled > SCHEDULE_SECONDS:
                last_scheduled = asyncio.get_running_loop().time()
                await scheduled(settings)
            attempted = await deliver_due(settings)
        except Exception:
            log.exception("delivery round failed")
            attempted = 0
        if attempted < BATCH:
            try:
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
            except TimeoutError:
                pass
    log.info("delivery worker stopped")
