"""The outbox: written with the change, sent once, retried with backoff, never twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from tortoise.transactions import in_transaction

from models.notifications import Outbox
from web.alerts import worker
from web.core.auth import now
from web.core.notify import enqueue_email


async def test_mail_is_written_in_the_same_transaction_as_the_change(db):
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await enqueue_email("a@b.example", "Subject", "Body")
            raise RuntimeError("the change failed")
    assert await Outbox.all().count() == 0


async def test_a_message_is_delivered_over_smtp_once(settings, smtp):
    await enqueue_email(
        "a@b.example",
        "Hello",
        "Body text",
        attachments=[
            {
                "filename": "meeting.ics",
                "content_type": "text/calendar",
                "content": "BEGIN:VCALENDAR",
            }
        ],
    )
    assert await worker.deliver_due(settings) == 1
    assert await worker.deliver_due(settings) == 0
    [message] = await smtp.mailbox.wait_for("a@b.example")
    assert message["Subject"] == "Hello"
    assert message["From"] == "Patchwork <patchwork@test.example>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "meeting.ics"
    item = await Outbox.get()
    assert item.sent_at is not None and item.attempts == 1 and item.last_error == ""


async def test_while_smtp_is_down_mail_waits_then_goes_once_it_is_back(settings, smtp):
    await enqueue_email("a@b.example", "Waiting", "Body")
    smtp.stop()
    assert await worker.deliver_due(settings) == 1
    item = await Outbox.get()
    assert item.sent_at is None and item.attempts == 1
    assert "Error" in item.last_error or "refused" in item.last_error.lower()
    wait = item.next_attempt_at - now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert await worker.deliver_due(settings) == 0  # not due yet: backing off

    smtp.start()
    await Outbox.all().update(next_attempt_at=now())
    assert await worker.deliver_due(settings) == 1
    await smtp.mailbox.wait_for("a@b.example")
    await Outbox.all().update(next_attempt_at=now())
    assert await worker.deliver_due(settings) == 0
    assert len(smtp.mailbox.to("a@b.example")) == 1
    item = await Outbox.get()
    assert item.attempts == 2 and item.sent_at is not None


def test_backoff_doubles_and_is_capped():
    assert worker.backoff(1) == timedelta(seconds=30)
    assert worker.backoff(2) == timedelta(minutes=1)
    assert worker.backoff(5) == timedelta(minutes=8)
    assert worker.backoff(30) == timedelta(hours=6)


async def test_a_message_that_keeps_failing_is_given_up(settings, smtp):
    await enqueue_email("a@b.example", "Doomed", "Body")
    smtp.stop()
    for _ in range(worker.MAX_ATTEMPTS):
        await Outbox.all().update(next_attempt_at=now())
        await worker.deliver_due(settings)
    item = await Outbox.get()
    assert item.failed_at is not None and item.attempts == worker.MAX_ATTEMPTS


async def test_two_workers_at_once_never_send_a_message_twice(settings, smtp):
    for n in range(30):
        await enqueue_email(f"person{n}@b.example", "Once", "Body")
    results = await asyncio.gather(*(worker.deliver_due(settings) for _ in range(4)))
    for _ in range(10):  # bounded: a failed send backs off and would never come due here
        if sum(results) >= 30:
            break
        results.append(await worker.deliver_due(settings))
    errors = await Outbox.exclude(last_error="").values_list("last_error", flat=True)
    assert sum(results) == 30, errors
    await asyncio.sleep(0.2)
    recipients = [m["To"] for m in smtp.mailbox.messages]
    assert sorted(recipients) == sorted(f"person{n}@b.example" for n in range(30))


async def test_a_claim_held_by_a_crashed_worker_is_retried_after_its_lease(settings, smtp):
    await enqueue_email("a@b.example", "Orphan", "Body")
    [claimed] = await worker.claim_due()  # a worker claims it, then dies
    assert await worker.claim_due() == []
    await Outbox.filter(id=claimed.id).update(locked_until=now() - timedelta(seconds=1))
    assert await worker.deliver_due(settings) == 1
    await smtp.mailbox.wait_for("a@b.example")


async def test_tidying_removes_expired_sessions_links_and_rate_limit_hits(settings):
    from models.auth import RateLimitHit, Session, SignInToken
    from tests import support
    from web.core.signins import create_signin_token

    priya = await support.practitioner()
    await create_signin_token(priya)
    old = now() - timedelta(days=30)
    await SignInToken.all().update(expires_at=old)
    fresh_token = await create_signin_token(priya)
    await RateLimitHit.create(key="signin:ip:x", at=old)
    await RateLimitHit.create(key="signin:ip:x", at=now())
    for seen in (old, now()):
        await Session.create(
            token_hash=f"hash-{seen.timestamp()}",
            practitioner=priya,
            created_at=seen,
            last_seen_at=seen,
            authenticated_at=seen,
            method="email",
        )
    await worker.tidy(settings)
    assert await SignInToken.all().count() == 1 and fresh_token
    assert await RateLimitHit.all().count() == 1
    assert await Session.all().count() == 1


async def test_a_sign_in_link_goes_ahead_of_a_queue_of_alerts(settings):
    for n in range(worker.BATCH + 5):
        await enqueue_email(f"person{n}@b.example", "An alert", "Body")
    await enqueue_email("waiting@b.example", "Your sign-in link", "Body", urgent=True)
    first_batch = await worker.claim_due()
    assert first_batch[0].recipient == "waiting@b.example"
    assert len(first_batch) == worker.BATCH
