"""Alerts through every channel: in-app, email and encrypted web push; preferences, digests."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from models.attentions import Attention, AttentionSeen
from models.audit import AuditEvent
from models.notifications import Notification, Outbox, PushSubscription
from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.alerts import worker
from web.core import alerts, references
from web.core.auth import now

NAMES = ("Mia", "Thompson", "Priya", "Nair", "Aroha", "Ngata", "Sam", "Lee")


async def subscribe(client, subscriber) -> int:
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    response = await client.post("/push/subscriptions", json=subscriber.to_json(), headers=headers)
    assert response.status_code == 201, response.text
    return (await PushSubscription.get(endpoint=subscriber.endpoint)).id


async def test_a_subscription_must_point_at_an_allowed_push_service(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    for endpoint in ("http://10.0.0.5/steal", "https://evil.example/push", "file:///etc/passwd"):
        body = {"endpoint": endpoint, "keys": {"p256dh": "BAAA", "auth": "AAAA"}}
        response = await client.post("/push/subscriptions", json=body, headers=headers)
        assert response.status_code == 422
    malformed = await client.post("/push/subscriptions", json={"endpoint": "x"}, headers=headers)
    assert malformed.status_code == 422
    assert await PushSubscription.all().count() == 0
    no_csrf = await client.post(
        "/push/subscriptions",
        json={"endpoint": "http://127.0.0.1/x", "keys": {"p256dh": "BAAA", "auth": "AAAA"}},
    )
    assert no_csrf.status_code == 403


async def test_subscribe_and_unsubscribe(client, push_service):
    priya = await support.practitioner()
    await sign_in(client, priya)
    subscriber = push_service.subscriber()
    await subscribe(client, subscriber)
    assert await PushSubscription.filter(practitioner=priya).count() == 1
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    response = await client.request(
        "DELETE", "/push/subscriptions", json={"endpoint": subscriber.endpoint}, headers=headers
    )
    assert response.status_code == 204
    assert await PushSubscription.all().count() == 0


async def test_a_join_reaches_the_team_by_every_channel_without_names(
    client, settings, smtp, push_service
):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, aroha)
    arohas_phone = push_service.subscriber()
    await subscribe(client, arohas_phone)
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    client.cookies.clear()
    await sign_in(client, tom)
    ref = references.client_reference(settings.secret_key, tom.id, mia.id)
    token = await csrf_token(client, f"/clients/{mia.id}/join?ref={ref}")
    await client.post(
        f"/clients/{mia.id}/join",
        data={"role": "Youth Worker", "working_with": "yes", "ref": ref, "csrf_token": token},
    )
    assert {n.practitioner_id for n in await Notification.filter(kind="joined")} == {
        priya.id,
        aroha.id,
        sam.id,
    }
    while await worker.deliver_due(settings):
        pass
    mails = [m for m in smtp.mailbox.messages]
    assert {m["To"] for m in mails} == {priya.email, aroha.email, sam.email}
    [received] = push_service.received
    assert arohas_phone.endpoint.endswith(f"/push/{received.subscriber}")
    payload = json.loads(received.plaintext)
    assert payload == {
        "kind": "joined",
        "count": 1,
        "title": "A team you're on has changed",
        "url": "/notifications",
    }
    assert len(received.plaintext) <= 200
    assert received.claims["sub"] == "mailto:tests@patchwork.example"
    for text in [received.plaintext.decode()] + [
        m.get_body(("plain",)).get_content() + m["Subject"] for m in mails
    ]:
        for name in NAMES + ("Tom", "Walsh", "Youth Worker"):
            assert name not in text


async def test_a_push_service_error_is_retried_and_the_message_arrives_once(settings, push_service):
    priya = await support.practitioner(notify_email="off")
    subscriber = push_service.subscriber()
    await PushSubscription.create(
        practitioner=priya,
        **{
            k: v
            for k, v in {"endpoint": subscriber.endpoint, **subscriber.to_json()["keys"]}.items()
        },
    )
    push_service.answers.extend([500, 201])
    await alerts.alert(
        settings, [priya], "attention_raised", client_id=None, actor_id=None, url="/"
    )
    assert await worker.deliver_due(settings) == 1
    item = await Outbox.get(channel="push")
    assert item.sent_at is None and "500" in item.last_error
    await Outbox.all().update(next_attempt_at=now())
    assert await worker.deliver_due(settings) == 1
    await Outbox.all().update(next_attempt_at=now())
    assert await worker.deliver_due(settings) == 0
    assert [r.status for r in push_service.received] == [500, 201]
    assert (await Outbox.get(channel="push")).sent_at is not None


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_removed(settings, push_service, status):
    """404 and 410 both mean the subscription no longer exists (RFC 8030 §7.3, and what the
    browser vendors' services answer): forget it, and never retry."""
    priya = await support.practitioner(notify_email="off")
    subscriber = push_service.subscriber()
    await PushSubscription.create(
        practitioner=priya, endpoint=subscriber.endpoint, **subscriber.to_json()["keys"]
    )
    push_service.answers.append(status)
    await alerts.alert(settings, [priya], "joined", client_id=None, actor_id=None, url="/")
    assert await worker.deliver_due(settings) == 1
    assert [r.status for r in push_service.received] == [status]
    assert await PushSubscription.all().count() == 0
    item = await Outbox.get(channel="push")
    assert item.failed_at is not None and item.sent_at is None  # not retried: it is gone
    await Outbox.all().update(next_attempt_at=now())
    assert await worker.deliver_due(settings) == 0


async def test_preferences_switch_channels_off_and_to_the_digest(client, settings, smtp):
    priya = await support.practitioner()
    await sign_in(client, priya)
    token = await csrf_token(client, "/profile")
    response = await client.post(
        "/profile/alerts",
        data={
            "notify_in_app": "immediate",
            "notify_email": "digest",
            "notify_push": "off",
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    priya = await Practitioner.get(id=priya.id)
    assert (priya.notify_email, priya.notify_push) == ("digest", "off")
    await alerts.alert(settings, [priya], "joined", client_id=None, actor_id=None, url="/")
    await alerts.alert(
        settings, [priya], "attention_raised", client_id=None, actor_id=None, url="/"
    )
    assert await Outbox.all().count() == 0  # nothing straight away
    assert await alerts.send_digests(settings) == 1
    [digest] = await Outbox.all()
    assert "2 updates" in digest.subject and "joined" in digest.body
    assert await alerts.send_digests(settings) == 0  # never an empty digest
    assert await Outbox.all().count() == 1


def test_the_digest_is_due_once_a_day_from_seven_local(settings):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(settings.time_zone)
    at = lambda h, day=24: datetime(2026, 11, day, h, 0, tzinfo=zone)  # noqa: E731
    assert not alerts.digest_due(settings, None, at(6))
    assert alerts.digest_due(settings, None, at(7))
    assert not alerts.digest_due(settings, at(7), at(9))
    assert alerts.digest_due(settings, at(7, 23), at(8))


async def test_notifications_page_badge_and_names_only_where_visible(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await alerts.alert(
        settings,
        [priya],
        "attention_raised",
        client_id=mia.id,
        actor_id=sam.id,
        url=f"/clients/{mia.id}/attentions",
    )
    await alerts.alert(
        settings, [priya], "joined", client_id=mia.id, actor_id=aroha.id, url=f"/clients/{mia.id}"
    )
    await sign_in(client, priya)
    badge = await client.get("/notifications/badge", headers={"HX-Request": "true"})
    assert ">2<" in badge.text
    page = (await client.get("/notifications")).text
    assert "Aroha Ngata" in page and "Mia Thompson" in page
    assert "Sam" not in page  # the discreet actor is never named
    badge = await client.get("/notifications/badge", headers={"HX-Request": "true"})
    assert "badge" not in badge.text  # all read now


async def test_attentions_raise_see_acknowledge_resolve(client, settings):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, aroha)
    token = await csrf_token(client, f"/clients/{mia.id}/attentions")
    too_long = await client.post(
        f"/clients/{mia.id}/attentions", data={"text": "x" * 501, "csrf_token": token}
    )
    assert too_long.status_code == 422 and "not a case note" in too_long.text
    await client.post(
        f"/clients/{mia.id}/attentions",
        data={
            "text": "Missed two appointments — please call me",
            "category": "concern",
            "csrf_token": token,
        },
    )
    attention = await Attention.get(client=mia)
    assert {n.practitioner_id for n in await Notification.filter(kind="attention_raised")} == {
        priya.id,
        sam.id,
    }

    client.cookies.clear()
    await sign_in(client, priya)
    page = (await client.get(f"/clients/{mia.id}/attentions")).text
    assert "Missed two appointments" in page and "seen by 2 of 2" in page  # Sam's view never counts
    client.cookies.clear()
    await sign_in(client, sam)
    await client.get(f"/clients/{mia.id}/attentions")
    assert await AttentionSeen.filter(attention=attention).count() == 3
    client.cookies.clear()
    await sign_in(client, priya)
    assert "seen by 2 of 2" in (await client.get(f"/clients/{mia.id}/attentions")).text
    token = await csrf_token(client, f"/clients/{mia.id}/attentions")
    seen = await AttentionSeen.get(attention=attention, practitioner=priya)
    assert seen.acknowledged_at is None
    acknowledged = await client.post(
        f"/clients/{mia.id}/attentions/{attention.id}/acknowledge", data={"csrf_token": token}
    )
    assert acknowledged.status_code == 303
    seen = await AttentionSeen.get(attention=attention, practitioner=priya)
    assert seen.acknowledged_at is not None
    client.cookies.clear()
    await sign_in(client, aroha)  # the raiser sees her message got through
    page = (await client.get(f"/clients/{mia.id}/attentions")).text
    assert "seen by 2 of 2 · acknowledged by 2" in page  # her own, and now Priya's
    client.cookies.clear()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/attentions")
    resolved = await client.post(
        f"/clients/{mia.id}/attentions/{attention.id}/resolve", data={"csrf_token": token}
    )
    assert resolved.status_code == 303
    attention = await Attention.get(id=attention.id)
    assert attention.resolved_by_id == priya.id
    assert {n.practitioner_id for n in await Notification.filter(kind="attention_resolved")} == {
        aroha.id,
        sam.id,
    }
    assert await AuditEvent.filter(action="attention.resolved").exists()
    assert "1 open attention" not in (await client.get("/")).text
