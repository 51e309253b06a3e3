"""Alerts and who receives them (web/core/alerts.py), rule by rule.

Written to kill the mutants `python -m tests --mutate web/core/alerts.py` found surviving: who is
told (and who never is), through which channel each chose, and exactly what each message says
(nothing that names a client or a practitioner)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from models.notifications import Notification, Outbox, PushSubscription
from tests import support
from web.core import alerts, clock
from web.core.settings import Settings


async def phone(practitioner, n: int = 1) -> PushSubscription:
    return await PushSubscription.create(
        practitioner=practitioner,
        endpoint=f"http://127.0.0.1:9/push/{practitioner.id}/{n}",
        p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
        auth="tBHItJI5svbpez7KI4CCXg",
    )


async def test_an_alert_records_a_notification_and_sends_each_the_channels_they_chose(
    settings: Settings,
):
    priya, aroha, sam, mia = await support.thompson_team()
    aroha.notify_email, aroha.notify_push = "digest", "off"
    await aroha.save()
    sam.notify_email, sam.notify_push = "off", "digest"
    await sam.save()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example", active=False)
    await phone(priya)
    await phone(priya, 2)
    await phone(aroha)
    moment = clock.now()
    await alerts.alert(
        settings, [priya, aroha, sam, tom], "left", client_id=mia.id, actor_id=99, url="/clients/1"
    )
    notes = await Notification.all().order_by("practitioner_id")
    assert [
        (n.practitioner_id, n.kind, n.client_id, n.actor_id, n.url)  # type: ignore[attr-defined]
        for n in notes
    ] == [(p.id, "left", mia.id, 99, "/clients/1") for p in (priya, aroha, sam)]
    digested = {n.practitioner_id: n.digested_at for n in notes}  # type: ignore[attr-defined]
    assert digested[aroha.id] is None and digested[sam.id] is None  # wait for the digest
    assert digested[priya.id] is not None and digested[priya.id] >= moment
    [email] = await Outbox.filter(channel="email")
    assert email.recipient == priya.email
    assert email.subject == "Patchwork: Someone has left the team around one of your clients"
    assert email.body == (
        "Someone has left the team around one of your clients.\n\n"
        "Sign in to Patchwork to see who: http://testserver/clients/1\n\n"
        "You can choose how Patchwork alerts you in your profile."
    )
    pushes = await Outbox.filter(channel="push").order_by("id")
    subscriptions = await PushSubscription.filter(practitioner_id=priya.id).order_by("id")
    assert [p.recipient for p in pushes] == [str(s.id) for s in subscriptions]
    assert {p.body for p in pushes} == {alerts.push_payload("left")}
    assert all(p.next_attempt_at <= clock.now() for p in pushes)


async def test_an_alert_to_nobody_active_records_nothing(settings):
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example", active=False)
    await alerts.alert(settings, [tom], "joined", client_id=None, actor_id=None, url="/")
    await alerts.alert(settings, [], "joined", client_id=None, actor_id=None, url="/")
    assert await Notification.all().count() == 0
    assert await Outbox.all().count() == 0


async def test_a_push_says_only_what_kind_of_thing_happened(db):
    assert json.loads(alerts.push_payload("joined")) == {
        "kind": "joined",
        "count": 1,
        "title": "A team you're on has changed",
        "url": "/notifications",
    }
    assert alerts.push_payload("digest", 3) == (
        '{"kind":"digest","count":3,"title":"A team you\'re on has changed","url":"/notifications"}'
    )
    await alerts.queue_push([], "joined")
    assert await Outbox.all().count() == 0


async def test_the_team_is_told_but_never_the_actor_a_former_member_or_another_team(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    await support.member(mia, tom, ended_at=clock.now())
    leo = await support.client("Leo")
    nora = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    await support.member(leo, nora)
    told = await alerts.tell_team(settings, mia.id, priya, "attention_raised", "/clients/1")
    assert told == {aroha.id, sam.id}  # discreet members get alerts, they just are not seen
    notes = await Notification.all()
    assert {n.practitioner_id for n in notes} == {aroha.id, sam.id}  # type: ignore[attr-defined]
    assert {n.actor_id for n in notes} == {priya.id}
    assert {n.client_id for n in notes} == {mia.id}
    await Notification.all().delete()
    told = await alerts.tell_team(
        settings,
        mia.id,
        aroha,
        "circle_linked",
        "/clients/1",
        named=False,
        already_told=[sam.id],
    )
    assert told == {priya.id}
    [note] = await Notification.all()
    assert note.actor_id is None and note.kind == "circle_linked"


def test_the_digest_is_due_once_a_day_from_seven_in_the_deployments_zone(settings):
    assert settings.time_zone == "Australia/Melbourne"
    # 07:00 in Melbourne on 2 March 2026 (daylight time, UTC+11) is 20:00 UTC the day before.
    seven = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    due = alerts.digest_due
    assert not due(settings, None, seven - timedelta(seconds=1))
    assert due(settings, None, seven)
    assert due(settings, None, seven + timedelta(hours=16, minutes=59))  # 23:59 local
    assert due(settings, seven - timedelta(days=1), seven)  # yesterday's was sent
    assert due(settings, seven - timedelta(microseconds=1), seven + timedelta(hours=1))
    assert not due(settings, seven, seven + timedelta(hours=1))  # today's was sent
    assert not due(settings, seven + timedelta(minutes=5), seven + timedelta(hours=1))
    assert not due(settings, seven - timedelta(days=1), seven - timedelta(hours=1))


async def test_a_digest_counts_each_kind_for_those_who_chose_it_and_names_nobody(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    aroha.notify_email, aroha.notify_push = "digest", "digest"
    await aroha.save()
    sam.notify_email, sam.notify_push = "off", "digest"
    await sam.save()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    tom.notify_email = "digest"
    await tom.save()
    await phone(aroha)
    await phone(sam)
    for kind in ("joined", "joined", "left"):
        await alerts.alert(
            settings, [priya, aroha, sam], kind, client_id=mia.id, actor_id=None, url="/clients/1"
        )
    await alerts.alert(settings, [tom], "joined", client_id=mia.id, actor_id=None, url="/")
    await Outbox.all().delete()  # the immediate ones
    assert await alerts.send_digests(settings) == 3  # Aroha, Sam and Tom; Priya is immediate
    emails = {m.recipient: m for m in await Outbox.filter(channel="email")}
    assert set(emails) == {aroha.email, tom.email}
    assert emails[aroha.email].subject == "Patchwork: 3 updates on your clients' teams"
    assert emails[tom.email].subject == "Patchwork: 1 update on your clients' teams"
    assert emails[aroha.email].body == (
        "Since your last digest:\n\n"  # newest kind first
        "- 1 × Someone has left the team around one of your clients.\n"
        "- 2 × Someone has joined the team around one of your clients.\n\n"
        "Sign in to see who: http://testserver/notifications\n\n"
        "You can choose how Patchwork alerts you in your profile."
    )
    pushes = await Outbox.filter(channel="push")
    assert sorted(json.loads(p.body)["count"] for p in pushes) == [3, 3]
    assert {json.loads(p.body)["kind"] for p in pushes} == {"digest"}
    waiting = await Notification.filter(digested_at__isnull=True).count()
    assert waiting == 0
    assert await alerts.send_digests(settings) == 0  # never an empty one
    assert await Outbox.all().count() == 4


def test_the_digest_is_due_from_seven_to_the_second(settings):
    seven = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 07:00:00 in Melbourne
    due = alerts.digest_due
    # Sent at 07:00:10; at 07:00:30 it is not due again (today's seven is 07:00:00.000000).
    assert not due(settings, seven + timedelta(seconds=10), seven + timedelta(seconds=30))
    at = seven + timedelta(microseconds=100)
    assert not due(settings, at, seven + timedelta(microseconds=500))


def test_a_push_payload_is_at_most_200_bytes(db):
    empty = len(alerts.push_payload(""))
    assert len(alerts.push_payload("k" * (200 - empty)).encode()) == 200
    with pytest.raises(AssertionError):
        alerts.push_payload("k" * (201 - empty))


async def test_a_team_is_told_of_one_persons_changes_once_an_hour_per_topic(settings):
    priya, aroha, sam, mia = await support.thompson_team()
    leo = await support.client("Leo")
    await support.member(leo, aroha)
    await support.member(leo, priya)

    async def tell(actor=priya, client=mia, topic="membership", **more) -> set[int]:
        return await alerts.tell_team_once(
            settings, client.id, actor, "joined", f"/clients/{client.id}", topic=topic, **more
        )

    assert await tell() == {aroha.id, sam.id}
    assert await tell() == set()  # the same change again within the hour
    assert await tell(topic="circle", named=False, already_told=[sam.id]) == {aroha.id}
    assert await tell(client=leo) == {aroha.id}  # another team
    assert await tell(actor=aroha) == {priya.id, sam.id}  # another person
    circle = await Notification.filter(client_id=mia.id, actor_id__isnull=True)
    assert [n.practitioner_id for n in circle] == [aroha.id]  # type: ignore[attr-defined]
    named = await Notification.filter(client_id=mia.id, actor_id=priya.id).count()
    assert named == 2  # the first "membership" alert, to Aroha and Sam
    with clock.shifted(timedelta(minutes=61)):
        assert await tell() == {aroha.id, sam.id}
