"""Push delivery (web/alerts/push.py), rule by rule: which subscriptions are kept, for whom, and how
a push is sent and refused.

Written to kill the mutants `python -m tests --mutate web/alerts/push.py` found surviving: each
field's limit at its edge, whose subscription an unsubscribe removes, and the exact request a
push service gets (VAPID claims, TTL), with 404 and 410 meaning "gone" and nothing else."""

from __future__ import annotations

import json

import pytest
from tortoise.exceptions import IntegrityError

from models.audit import AuditEvent
from models.notifications import PushSubscription
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.alerts import push

ENDPOINT = "http://127.0.0.1:9/push/1"
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
AUTH = "tBHItJI5svbpez7KI4CCXg"


def body(endpoint: str = ENDPOINT, p256dh: str = P256DH, auth: str = AUTH) -> dict:
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def test_a_subscription_is_read_only_when_whole_allowed_and_within_its_columns(settings):
    read = push.read_subscription
    assert read(body(), settings) == ({"endpoint": ENDPOINT, "p256dh": P256DH, "auth": AUTH}, "")
    shape = "Expected a push subscription: {endpoint, keys: {p256dh, auth}}."
    assert read(None, settings) == (None, shape)
    assert read({"endpoint": ENDPOINT, "keys": "x"}, settings) == (None, shape)
    needs = "The subscription needs an endpoint, a p256dh key and an auth secret."
    for broken in (body(endpoint=""), body(p256dh=""), body(auth=""), {"keys": {}}):
        assert read(broken, settings) == (None, needs)
    assert read({**body(), "endpoint": 5}, settings) == (None, needs)
    service = "That push service is not one this server may use."
    assert read(body(endpoint="https://evil.example/push"), settings) == (None, service)
    longest = "http://127.0.0.1/" + "a" * (push.max_length("endpoint") - len("http://127.0.0.1/"))
    assert read(body(endpoint=longest), settings)[0] is not None
    assert read(body(endpoint=longest + "a"), settings) == (None, service)
    keys = "The subscription's keys are not valid."
    assert read(body(p256dh="A" * push.max_length("p256dh")), settings)[0] is not None
    assert read(body(p256dh="A" * (push.max_length("p256dh") + 1)), settings) == (None, keys)
    assert read(body(auth="A" * push.max_length("auth")), settings)[0] is not None
    assert read(body(auth="A" * (push.max_length("auth") + 1)), settings) == (None, keys)
    assert read(body(p256dh="not base64!"), settings) == (None, keys)
    assert read(body(auth="not base64!"), settings) == (None, keys)
    assert read(body(auth="AAAA=="), settings)[0] is not None


def test_the_limits_are_the_columns():
    assert (push.max_length("endpoint"), push.max_length("p256dh"), push.max_length("auth")) == (
        1000,
        200,
        100,
    )


async def test_a_browser_subscription_moves_to_whoever_subscribes_it_last(db):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    subscription = {"endpoint": ENDPOINT, "p256dh": P256DH, "auth": AUTH}
    await push.keep(priya.id, subscription)
    await push.keep(priya.id, {**subscription, "auth": "bmV3"})
    [kept] = await PushSubscription.all()
    assert (kept.practitioner_id, kept.auth, kept.p256dh) == (priya.id, "bmV3", P256DH)  # type: ignore[attr-defined]
    await push.keep(aroha.id, {**subscription, "endpoint": ENDPOINT + "0"})
    await push.keep(aroha.id, {**subscription, "p256dh": "QUJD"})  # new keys move with it
    rows = await PushSubscription.all().order_by("id")
    assert [(r.endpoint, r.practitioner_id, r.auth, r.p256dh) for r in rows] == [  # type: ignore[attr-defined]
        (ENDPOINT, aroha.id, AUTH, "QUJD"),
        (ENDPOINT + "0", aroha.id, AUTH, P256DH),
    ]


async def test_keeping_gives_up_after_three_lost_races(db, monkeypatch):
    """Each attempt finds no row to update, then loses the insert to another request."""
    attempts = []

    class Lost:
        @staticmethod
        async def update(**_values):
            attempts.append("update")
            return 0

    async def create(**_values):
        attempts.append("insert")
        raise IntegrityError("duplicate endpoint")

    monkeypatch.setattr(PushSubscription, "filter", lambda **_where: Lost())
    monkeypatch.setattr(PushSubscription, "create", create)
    subscription = {"endpoint": ENDPOINT, "p256dh": P256DH, "auth": AUTH}
    with pytest.raises(RuntimeError, match="^push subscription neither inserted nor updated$"):
        await push.keep(1, subscription)
    assert attempts == ["update", "insert"] * 3


async def signed_in(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    return priya, {"X-CSRF-Token": await csrf_token(client, "/profile")}


async def test_subscribing_answers_201_and_is_audited(client):
    priya, headers = await signed_in(client)
    response = await client.post("/push/subscriptions", json=body(), headers=headers)
    assert response.status_code == 201 and response.json() == {"subscribed": True}
    assert (await PushSubscription.get()).practitioner_id == priya.id  # type: ignore[attr-defined]
    event = await AuditEvent.get(action="push.subscribed")
    assert event.actor_id == priya.id  # type: ignore[attr-defined]
    refused = await client.post(
        "/push/subscriptions",
        content=b"{not json",
        headers={**headers, "content-type": "application/json"},
    )
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "Expected a push subscription: {endpoint, keys: {p256dh, auth}}."
    }


async def test_unsubscribing_removes_only_my_own_subscription(client):
    priya, headers = await signed_in(client)
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    await push.keep(aroha.id, {"endpoint": ENDPOINT, "p256dh": P256DH, "auth": AUTH})
    await push.keep(priya.id, {"endpoint": ENDPOINT + "0", "p256dh": P256DH, "auth": AUTH})
    await push.keep(priya.id, {"endpoint": ENDPOINT + "1", "p256dh": P256DH, "auth": AUTH})

    async def unsubscribe(payload):
        return await client.request(
            "DELETE", "/push/subscriptions", content=json.dumps(payload), headers=headers
        )

    assert (await unsubscribe({"endpoint": ENDPOINT})).status_code == 204
    assert await PushSubscription.filter(endpoint=ENDPOINT).exists()  # Aroha's stays
    for bad in ({"endpoint": 5}, {}, ["x"]):
        refused = await unsubscribe(bad)
        assert refused.status_code == 422 and refused.json() == {"error": "Expected {endpoint}."}
    assert (await unsubscribe({"endpoint": ENDPOINT + "0"})).status_code == 204
    # Only that browser's: Priya's other browser keeps its subscription.
    assert sorted(s.endpoint for s in await PushSubscription.all()) == [ENDPOINT, ENDPOINT + "1"]
    events = await AuditEvent.filter(action="push.unsubscribed")
    assert [e.actor_id for e in events] == [priya.id, priya.id]  # type: ignore[attr-defined]


async def test_a_push_carries_the_payload_vapid_claims_and_a_day_to_live(settings, push_service):
    priya = await support.practitioner()
    subscriber = push_service.subscriber()
    keys = subscriber.to_json()["keys"]
    made = await PushSubscription.create(practitioner=priya, endpoint=subscriber.endpoint, **keys)
    await push.send(settings, made, '{"kind":"joined"}')
    [received] = push_service.received
    assert received.plaintext == b'{"kind":"joined"}'
    assert received.claims["sub"] == "mailto:tests@patchwork.example"
    assert received.claims["aud"] == push_service.origin


@pytest.mark.parametrize(("status", "gone"), [(404, True), (410, True), (400, False), (500, False)])
async def test_only_404_and_410_mean_the_subscription_is_gone(settings, push_service, status, gone):
    from pywebpush import WebPushException

    priya = await support.practitioner()
    subscriber = push_service.subscriber()
    made = await PushSubscription.create(
        practitioner=priya, endpoint=subscriber.endpoint, **subscriber.to_json()["keys"]
    )
    push_service.answers.append(status)
    expected = push.SubscriptionGone if gone else WebPushException
    with pytest.raises(expected) as raised:
        await push.send(settings, made, "{}")
    if gone:
        assert str(raised.value) == f"push service answered {status}"
        assert isinstance(raised.value.__cause__, WebPushException)


async def test_the_ttl_is_a_day_and_the_request_times_out(settings, monkeypatch):
    seen = {}

    def fake_webpush(info, payload, **kwargs):
        seen.update(info=info, payload=payload, **kwargs)

    monkeypatch.setattr(push, "webpush", fake_webpush)
    subscription = PushSubscription(endpoint=ENDPOINT, p256dh=P256DH, auth=AUTH)
    await push.send(settings, subscription, "hello")
    assert seen == {
        "info": {"endpoint": ENDPOINT, "keys": {"p256dh": P256DH, "auth": AUTH}},
        "payload": "hello",
        "vapid_private_key": settings.vapid_private_key,
        "vapid_claims": {"sub": settings.vapid_subject},
        "ttl": 86400,
        "timeout": 10,
    }


async def test_a_push_that_never_reached_a_service_is_retried_not_gone(settings, monkeypatch):
    from pywebpush import WebPushException

    def unreachable(*args, **kwargs):
        raise WebPushException("connection refused")

    monkeypatch.setattr(push, "webpush", unreachable)
    subscription = PushSubscription(endpoint=ENDPOINT, p256dh=P256DH, auth=AUTH)
    with pytest.raises(WebPushException):
        await push.send(settings, subscription, "hello")
