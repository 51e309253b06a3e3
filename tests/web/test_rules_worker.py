"""The delivery worker (web/alerts/worker.py), rule by rule: what is claimed and when, what a
failure records, when a push is given up as gone, what tidying keeps, and the loop itself.

Written to kill the mutants `python -m tests --mutate web/alerts/worker.py` found surviving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from models.auth import RateLimitHit, Session, SignInToken, WebAuthnChallenge
from models.notifications import Outbox, PushSubscription
from models.teams import JoinCode
from tests import support
from web.alerts import worker
from web.core import alerts, clock
from web.core import db as database
from web.core.notify import enqueue_email


async def push_to(practitioner, push_service) -> tuple[PushSubscription, Outbox]:
    subscriber = push_service.subscriber()
    subscription = await PushSubscription.create(
        practitioner=practitioner, endpoint=subscriber.endpoint, **subscriber.to_json()["keys"]
    )
    item = await Outbox.create(
        channel="push", recipient=str(subscription.id), body="{}", next_attempt_at=clock.now()
    )
    return subscription, item


async def test_a_push_to_a_subscription_removed_before_sending_is_given_up(settings):
    item = await Outbox.create(
        channel="push", recipient="12345", body="{}", next_attempt_at=clock.now()
    )
    assert await worker.deliver_due(settings) == 1
    item = await Outbox.get(id=item.id)
    assert item.failed_at is not None and item.sent_at is None and item.locked_until is None
    assert item.last_error == "SubscriptionGone: subscription removed before sending"


async def test_a_push_service_error_keeps_the_subscription_and_retries(settings, push_service):
    priya = await support.practitioner()
    subscription, item = await push_to(priya, push_service)
    push_service.answers.append(500)
    assert await worker.deliver_due(settings) == 1
    assert await PushSubscription.filter(id=subscription.id).exists()
    item = await Outbox.get(id=item.id)
    assert item.failed_at is None and item.sent_at is None and item.locked_until is None
    assert item.last_error.startswith("WebPushException: ")
    assert item.next_attempt_at - clock.now() > timedelta(seconds=25)


async def test_a_gone_subscription_is_deleted_and_its_push_not_retried(settings, push_service):
    priya = await support.practitioner()
    gone, item = await push_to(priya, push_service)
    kept, _other = await push_to(priya, push_service)
    push_service.answers.extend([410, 201])
    assert await worker.deliver_due(settings) == 2
    assert [s.id for s in await PushSubscription.all()] == [kept.id]
    item = await Outbox.get(id=item.id)
    assert item.failed_at is not None and item.attempts == 1
    assert item.last_error == "SubscriptionGone: push service answered 410"


class Recorded(logging.Handler):
    """The records a logger writes (the suite runs without pytest's logging plugin)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname} {record.getMessage()}")


async def test_a_message_on_an_unknown_channel_is_a_failure_recorded(settings):
    item = await Outbox.create(channel="pigeon", recipient="x", next_attempt_at=clock.now())
    recorded = Recorded()
    logger = logging.getLogger("patchwork.worker")
    logger.addHandler(recorded)
    try:
        assert await worker.deliver_due(settings) == 1
    finally:
        logger.removeHandler(recorded)
    item = await Outbox.get(id=item.id)
    assert item.last_error == "ValueError: unknown channel 'pigeon'"
    assert item.failed_at is None and item.sent_at is None
    # The operator's log says which message failed, which attempt, and why.
    assert recorded.messages == [
        f"WARNING outbox {item.id} attempt 1 failed: ValueError: unknown channel 'pigeon'"
    ]


async def test_a_failure_backs_off_then_gives_up_after_the_last_attempt(settings):
    item = await Outbox.create(channel="pigeon", recipient="x", next_attempt_at=clock.now())
    for attempt in range(1, worker.MAX_ATTEMPTS):
        item.attempts = attempt
        moment = clock.now()
        await worker._failed(item, RuntimeError("x" * 600))
        stored = await Outbox.get(id=item.id)
        assert stored.failed_at is None
        wait = stored.next_attempt_at - moment
        assert worker.backoff(attempt) <= wait < worker.backoff(attempt) + timedelta(seconds=5)
        assert stored.last_error == ("RuntimeError: " + "x" * 600)[:500]
    item.attempts = worker.MAX_ATTEMPTS
    await worker._failed(item, RuntimeError("last"))
    assert (await Outbox.get(id=item.id)).failed_at is not None


def test_backoff_from_the_first_attempt():
    assert worker.backoff(0) == timedelta(seconds=30)
    assert worker.backoff(3) == timedelta(minutes=2)
    assert worker.backoff(10) == timedelta(seconds=30 * 2**9)
    assert worker.backoff(11) == timedelta(hours=6)


async def test_only_due_unclaimed_unsent_messages_are_claimed_for_a_lease(settings):
    moment = clock.now()
    due = await enqueue_email("due@b.example", "s", "b")
    await Outbox.create(recipient="later@b.example", next_attempt_at=moment + timedelta(minutes=1))
    await Outbox.create(recipient="sent@b.example", next_attempt_at=moment, sent_at=moment)
    await Outbox.create(recipient="failed@b.example", next_attempt_at=moment, failed_at=moment)
    await Outbox.create(
        recipient="leased@b.example",
        next_attempt_at=moment,
        locked_until=moment + timedelta(minutes=1),
    )
    lapsed = await Outbox.create(
        recipient="lapsed@b.example",
        next_attempt_at=moment,
        locked_until=moment - timedelta(seconds=1),
    )
    claimed = await worker.claim_due()
    assert [c.id for c in claimed] == [due.id, lapsed.id]
    assert [c.attempts for c in claimed] == [1, 1]
    stored = await Outbox.get(id=due.id)
    assert stored.attempts == 1
    lease = stored.locked_until - clock.now()
    assert timedelta(minutes=4) < lease <= timedelta(minutes=5)
    assert len(await worker.claim_due(limit=1)) == 0


async def test_on_postgres_a_claim_skips_what_another_worker_has_locked(settings):
    """Workers do not queue behind each other: rows another worker is claiming are skipped."""
    if database.dialect() != "postgres":
        pytest.skip("SQLite has one writer: a claim never meets another worker's lock")
    locked = await enqueue_email("locked@b.example", "s", "b")
    free = await enqueue_email("free@b.example", "s", "b")
    holding, release = asyncio.Event(), asyncio.Event()

    async def another_worker_mid_claim() -> None:
        async with in_transaction():
            await Outbox.filter(id=locked.id).select_for_update()
            holding.set()
            with suppress(TimeoutError):  # bounded, should the claim below wait for it
                await asyncio.wait_for(release.wait(), timeout=30)

    holder = asyncio.create_task(another_worker_mid_claim())
    await holding.wait()
    claimed = await worker.claim_due()
    held_meanwhile = not holder.done()
    release.set()
    await holder
    assert [c.id for c in claimed] == [free.id] and held_meanwhile


async def test_a_claim_takes_at_most_its_limit(settings):
    for n in range(3):
        await enqueue_email(f"p{n}@b.example", "s", "b")
    assert len(await worker.claim_due(limit=2)) == 2
    assert len(await worker.claim_due()) == 1


async def test_tidying_keeps_everything_for_a_day_after_it_expires(settings):
    priya = await support.practitioner()
    moment = clock.now()
    day = timedelta(days=1)
    for n, expired in enumerate(
        (moment - day - timedelta(minutes=1), moment - day + timedelta(minutes=1))
    ):
        await SignInToken.create(
            token_hash=f"t{n}",
            email="p@b.example",
            practitioner=priya,
            created_at=expired,
            expires_at=expired,
        )
        await JoinCode.create(
            token_hash=f"j{n}",
            client=await support.client(f"C{n}"),
            created_by=priya,
            created_at=expired,
            expires_at=expired,
        )
        await WebAuthnChallenge.create(
            challenge=f"c{n}", purpose="signin", expires_at=expired, binding=f"b{n}"
        )
    idle = timedelta(hours=settings.session_idle_hours)
    absolute = timedelta(days=settings.session_absolute_days)
    sessions = {
        "idle": (moment - idle - timedelta(minutes=1), moment - timedelta(hours=1)),
        "nearly idle": (moment - idle + timedelta(minutes=1), moment - timedelta(hours=1)),
        "too old": (moment - timedelta(hours=1), moment - absolute - timedelta(minutes=1)),
        "nearly too old": (moment - timedelta(hours=1), moment - absolute + timedelta(minutes=1)),
    }
    for name, (seen, created) in sessions.items():
        await Session.create(
            token_hash=name,
            practitioner=priya,
            created_at=created,
            last_seen_at=seen,
            authenticated_at=created,
            method="email",
        )
    await RateLimitHit.create(key="k", at=moment - timedelta(hours=2))
    await worker.tidy(settings)
    assert await SignInToken.all().values_list("token_hash", flat=True) == ["t1"]
    assert await JoinCode.all().values_list("token_hash", flat=True) == ["j1"]
    assert await WebAuthnChallenge.all().values_list("challenge", flat=True) == ["c1"]
    kept = set(await Session.all().values_list("token_hash", flat=True))
    assert kept == {"nearly idle", "nearly too old"}
    assert await RateLimitHit.all().count() == 0


async def test_the_scheduled_jobs_ask_for_checkins_tell_lapses_digest_and_tidy(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    long_ago = clock.now() - timedelta(days=settings.checkin_days + 60)
    from models.teams import Membership

    await Membership.filter(practitioner_id=aroha.id).update(last_confirmed_at=long_ago)
    await RateLimitHit.create(key="k", at=clock.now() - timedelta(hours=2))
    await worker.scheduled(settings)
    from models.notifications import Notification

    kinds = sorted(
        (n.practitioner_id, n.kind)
        for n in await Notification.all()  # type: ignore[attr-defined]
    )
    assert (aroha.id, "checkin_due") in kinds
    assert (priya.id, "membership_lapsed") in kinds
    assert await RateLimitHit.all().count() == 0


async def test_the_loop_delivers_until_stopped(settings, smtp):
    await enqueue_email("a@b.example", "Looped", "Body")
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(settings, stop, poll_seconds=0.05))
    await smtp.mailbox.wait_for("a@b.example")
    await enqueue_email("b@b.example", "Second", "Body")  # picked up on the next poll
    await smtp.mailbox.wait_for("b@b.example")
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert await Outbox.filter(sent_at__isnull=True).count() == 0


async def loop_until(settings, done, poll_seconds: float):
    """Start the worker's loop and wait (up to five seconds) until `done()`."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(settings, stop, poll_seconds=poll_seconds))
    for _ in range(500):
        if done():
            break
        await asyncio.sleep(0.01)
    return stop, running


async def test_the_loop_survives_a_failing_round(settings, smtp, monkeypatch):
    calls = []

    async def broken(settings):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 0

    monkeypatch.setattr(worker, "deliver_due", broken)
    stop, running = await loop_until(settings, lambda: len(calls) >= 3, poll_seconds=0.01)
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert len(calls) >= 3


async def test_a_full_batch_is_followed_at_once_by_the_next(settings, monkeypatch):
    rounds = []

    async def busy(settings):
        rounds.append(clock.now())
        return worker.BATCH if len(rounds) < 3 else 0

    monkeypatch.setattr(worker, "deliver_due", busy)
    stop, running = await loop_until(settings, lambda: len(rounds) >= 3, poll_seconds=30)
    assert len(rounds) == 3  # no 30-second wait after a full batch
    stop.set()
    await asyncio.wait_for(running, timeout=5)  # a stop ends the wait at once


async def test_a_message_sent_at_last_is_released_and_its_old_error_cleared(settings, smtp):
    item = await enqueue_email("a@b.example", "At last", "Body")
    await Outbox.filter(id=item.id).update(attempts=1, last_error="SMTPServerDisconnected: gone")
    assert await worker.deliver_due(settings) == 1
    await smtp.mailbox.wait_for("a@b.example")
    item = await Outbox.get(id=item.id)
    assert item.sent_at is not None and item.failed_at is None and item.attempts == 2
    assert item.locked_until is None and item.last_error == ""


def seven_tomorrow(settings) -> timedelta:
    """How far to move the clock to reach 07:00 tomorrow in TIME_ZONE."""
    zone = ZoneInfo(settings.time_zone)
    day = clock.now().astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(7), zone).astimezone(UTC) - clock.now()


async def test_the_digest_job_records_when_it_ran_and_how_many_it_told(settings):
    priya, aroha, _sam, _tom, mia, _leo = await support.thompson_siblings()
    for who in (priya, aroha):
        who.notify_email = "digest"
        await who.save()
    await alerts.alert(settings, [priya, aroha], "joined", client_id=mia.id, actor_id=None, url="/")
    with clock.shifted(seven_tomorrow(settings)):
        started = clock.now()
        await worker.send_digests_once(settings)
        [event] = await AuditEvent.filter(action="job.digest")
        assert event.detail == {"practitioners": 2}
        assert started <= event.at <= clock.now()  # the app's clock, not the machine's
        await worker.send_digests_once(settings)  # the guard is that row: not again today
    assert await AuditEvent.filter(action="job.digest").count() == 1
    assert await Outbox.all().count() == 2


class Scripted:
    """Stands in for the loop's surroundings: `asyncio` (a clock the test moves, and waits
    recorded instead of waited), the scheduled jobs and the delivery rounds, each round's
    result (or error) and the clock for the next taken from `rounds`; the last stops the loop."""

    def __init__(
        self, stop: asyncio.Event, start: float, rounds: list, scheduled_error: Exception | None
    ) -> None:
        self.stop = stop
        self.clock = start
        self.rounds = rounds
        self.events: list[str] = []
        self.scheduled_error = scheduled_error

    # -- as `asyncio`, inside the worker module
    def get_running_loop(self) -> Scripted:
        return self

    def time(self) -> float:
        return self.clock

    async def wait_for(self, awaitable, timeout: float) -> None:
        awaitable.close()
        self.events.append(f"wait {timeout}")
        raise TimeoutError

    # -- as the worker's jobs
    async def scheduled(self, settings) -> None:
        self.events.append("scheduled")
        if self.scheduled_error:
            error, self.scheduled_error = self.scheduled_error, None
            raise error

    async def deliver_due(self, settings) -> int:
        self.events.append("deliver")
        result, self.clock = self.rounds.pop(0) if self.rounds else (0, self.clock)
        if not self.rounds or len(self.events) > 100:
            self.stop.set()
        if isinstance(result, Exception):
            raise result
        return result


@contextmanager
def worker_log(level: int = logging.INFO) -> Iterator[list[str]]:
    """The messages the worker logs meanwhile, at `level` and above."""
    recorded = Recorded()
    logger = logging.getLogger("patchwork.worker")
    previous = logger.level
    logger.setLevel(level)
    logger.addHandler(recorded)
    try:
        yield recorded.messages
    finally:
        logger.removeHandler(recorded)
        logger.setLevel(previous)


async def scripted_run(
    settings, monkeypatch, start: float, rounds: list, scheduled_error: Exception | None = None
) -> Scripted:
    stop = asyncio.Event()
    script = Scripted(stop, start, rounds, scheduled_error)
    monkeypatch.setattr(worker, "asyncio", script)
    monkeypatch.setattr(worker, "scheduled", script.scheduled)
    monkeypatch.setattr(worker, "deliver_due", script.deliver_due)
    await worker.run(settings, stop)  # poll_seconds left at its default
    return script


async def test_the_loop_runs_the_scheduled_jobs_once_more_than_five_minutes_have_passed(
    settings, monkeypatch
):
    rounds = [
        (0, 300.5),  # at 300.0 (the loop's clock): not yet five minutes past 0
        (worker.BATCH, 600.5),  # at 300.5: due; a full batch, so no wait
        (0, 600.6),  # at 600.5: exactly five minutes since, not more
        (0, 600.6),  # at 600.6: due again; then stopped
    ]
    with worker_log() as messages:
        script = await scripted_run(settings, monkeypatch, 300.0, rounds)
    assert script.events == [
        "deliver",
        "wait 2.0",
        "scheduled",
        "deliver",
        "deliver",
        "wait 2.0",
        "scheduled",
        "deliver",
        "wait 2.0",
    ]
    assert messages == ["INFO delivery worker started", "INFO delivery worker stopped"]


async def test_a_failed_round_is_logged_and_followed_by_a_wait_however_small_the_batch(
    settings, monkeypatch
):
    monkeypatch.setattr(worker, "BATCH", 1)
    rounds = [
        (RuntimeError("database went away"), 1000.0),
        (worker.BATCH, 1000.0),  # a full batch (of one): no wait
        (0, 1000.0),
    ]
    with worker_log(logging.ERROR) as messages:
        script = await scripted_run(
            settings, monkeypatch, 1000.0, rounds, RuntimeError("the digest failed")
        )
    # A failing scheduled job is not retried at every poll: it waits its five minutes.
    assert script.events == [
        "scheduled",
        "wait 2.0",
        "deliver",
        "wait 2.0",
        "deliver",
        "deliver",
        "wait 2.0",
    ]
    assert messages == ["ERROR delivery round failed", "ERROR delivery round failed"]


async def test_tidying_removes_sent_messages_after_a_week_and_given_up_ones_after_a_month(
    settings,
):
    moment = clock.now()
    day = timedelta(days=1)

    async def row(**when: object) -> int:
        item = await Outbox.create(channel="email", recipient="a@b.example", **when)
        return item.id

    gone = {
        await row(next_attempt_at=moment, sent_at=moment - 8 * day),
        await row(next_attempt_at=moment, failed_at=moment - 31 * day),
    }
    kept = {
        await row(next_attempt_at=moment, sent_at=moment - 6 * day),
        await row(next_attempt_at=moment, failed_at=moment - 29 * day),
        await row(next_attempt_at=moment - 40 * day),  # still waiting, however old: kept
    }
    await worker.tidy(settings)
    assert set(await Outbox.all().values_list("id", flat=True)) == kept
    assert not gone & kept


def test_a_failure_is_logged_with_no_address_and_only_a_missing_mailbox_is_final():
    import aiosmtplib

    def refused(code: int, message: str, to: str) -> aiosmtplib.SMTPRecipientsRefused:
        return aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(code, message, to)]
        )

    for address in ("jade@[10.0.0.1]", '"jade"@example.com', "o'neill@example.com"):
        error = refused(550, f"5.1.1 <{address}> unknown", address)
        logged = worker.described(error, address)
        assert "jade" not in logged and "neill" not in logged, logged
        assert "[address]" in logged
    assert worker.permanent(refused(550, "5.1.1 no such user", "a@b.example"))
    assert worker.permanent(refused(553, "mailbox name not allowed", "a@b.example"))
    for code, message in (
        (552, "mailbox full"),
        (554, "sender check"),
        (550, "5.7.1 relay denied"),
    ):
        assert not worker.permanent(refused(code, message, "a@b.example")), code
    assert not worker.permanent(aiosmtplib.SMTPRecipientsRefused([]))
