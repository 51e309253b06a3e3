"""The 07:00 digest, as the scheduler sends it: at seven in TIME_ZONE (whatever the machine's
zone), by email and by push, naming nobody, never empty, and once however many workers run.

The clock is moved with `clock.shifted`, so these tests pass at any hour in any zone."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.audit import AuditEvent
from models.notifications import Notification, Outbox, PushSubscription
from tests import conftest, support
from web.alerts import worker
from web.core import alerts, clock
from web.core.settings import Settings, load

NAMES = ("Mia", "Thompson", "Priya", "Nair", "Aroha", "Ngata", "Sam", "Lee", "Tom", "Walker")


def until(settings: Settings, hour: int, minute: int = 0, days: int = 1) -> timedelta:
    """How far to move the clock to reach hour:minute in TIME_ZONE, `days` days from today."""
    zone = ZoneInfo(settings.time_zone)
    day = clock.now().astimezone(zone).date() + timedelta(days=days)
    target = datetime.combine(day, time(hour, minute), zone)
    return target.astimezone(UTC) - clock.now()


async def digests() -> list[Outbox]:
    """The digests queued so far (immediate alerts are another kind of message)."""

    def is_digest(message: Outbox) -> bool:
        if message.channel == "push":
            return json.loads(message.body)["kind"] == "digest"
        return "on your clients' teams" in message.subject

    return [m for m in await Outbox.all().order_by("id") if is_digest(m)]


async def subscribe(practitioner, push_service) -> str:
    """A phone of this practitioner's; returns the push outbox's recipient for it."""
    subscriber = push_service.subscriber()
    made = await PushSubscription.create(
        practitioner=practitioner, endpoint=subscriber.endpoint, **subscriber.to_json()["keys"]
    )
    return str(made.id)


@pytest.fixture(params=["Australia/Melbourne", "Europe/London"])
def zoned(request, db, smtp) -> Settings:
    """The settings, with each deployment's TIME_ZONE in turn."""
    return load(conftest.test_environ(db, smtp.url, "http://testserver", TIME_ZONE=request.param))


async def test_the_scheduler_sends_each_digest_at_seven_by_email_and_push(
    zoned, smtp, push_service
):
    settings = zoned
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    choices = ((priya, "digest", "digest"), (aroha, "digest", "off"), (tom, "off", "digest"))
    for who, email, push in choices:
        who.notify_email, who.notify_push = email, push
        await who.save()
    phones = [await subscribe(priya, push_service), await subscribe(tom, push_service)]
    for kind, client, actor in (("joined", mia, sam), ("attention_raised", leo, priya)):
        await alerts.alert(
            settings, [priya, aroha, tom], kind, client_id=client.id, actor_id=actor.id, url="/"
        )
    assert await Outbox.all().count() == 0  # nobody chose "immediate"

    with clock.shifted(until(settings, 6, 59)):
        await worker.scheduled(settings)
        assert await digests() == []  # not yet seven
    with clock.shifted(until(settings, 7, 0)):
        await worker.scheduled(settings)
        queued = await digests()
        assert sorted((m.channel, m.recipient) for m in queued) == sorted(
            [("email", priya.email), ("email", aroha.email), *(("push", p) for p in phones)]
        )
        while await worker.deliver_due(settings):
            pass
    for address in (priya.email, aroha.email):
        [mail] = await smtp.mailbox.wait_for(address)
        text = mail["Subject"] + mail.get_body(("plain",)).get_content()
        assert "2 updates" in mail["Subject"] and "/notifications" in text
        assert not [name for name in NAMES if name in text], text
    assert smtp.mailbox.to(tom.email) == []  # email off
    digest = {"kind": "digest", "count": 2, "title": alerts.LOCK_SCREEN, "url": "/notifications"}
    assert [json.loads(r.plaintext) for r in push_service.received] == [digest, digest]
    assert not await Notification.filter(digested_at__isnull=True).exists()

    # Later that day, and at seven the next day with nothing new: nothing more (never empty).
    for moment in (until(settings, 7, 5), until(settings, 23, 55), until(settings, 7, 0, days=2)):
        with clock.shifted(moment):
            await worker.scheduled(settings)
    assert len(await digests()) == 4
    # Something new, then the next seven o'clock: one more digest for the one person told.
    await alerts.alert(settings, [aroha], "left", client_id=mia.id, actor_id=tom.id, url="/")
    with clock.shifted(until(settings, 7, 1, days=3)):
        await worker.scheduled(settings)
    [*_, newest] = await digests()
    assert newest.recipient == aroha.email and "1 update " in newest.subject
    assert len(await digests()) == 5
    assert await AuditEvent.filter(action="job.digest").count() == 3


async def test_two_workers_at_seven_send_each_digest_once(settings, smtp, monkeypatch):
    """Two workers reach seven o'clock together; the first is slow to write its digests, so
    the second decides while the first is still at it (on PostgreSQL, truly at once)."""
    send_digests = alerts.send_digests

    async def slowly(settings: Settings) -> int:
        await asyncio.sleep(0.3)
        return await send_digests(settings)

    monkeypatch.setattr(alerts, "send_digests", slowly)
    priya, aroha, _sam, _tom, mia, _leo = await support.thompson_siblings()
    for who in (priya, aroha):
        who.notify_email = "digest"
        await who.save()
    await alerts.alert(settings, [priya, aroha], "joined", client_id=mia.id, actor_id=None, url="/")
    with clock.shifted(until(settings, 7, 2)):
        await asyncio.gather(worker.scheduled(settings), worker.scheduled(settings))
        await asyncio.gather(worker.scheduled(settings), worker.scheduled(settings))
    assert sorted(m.recipient for m in await digests()) == sorted([priya.email, aroha.email])
    assert await AuditEvent.filter(action="job.digest").count() == 1
