"""Web push subscriptions (the browser's PushSubscription.toJSON()), and sending a push.

A subscription's endpoint must start with one of PUSH_ALLOWED_ENDPOINTS, so a subscription
can never make the server send requests to an address of someone's choosing.
"""

from __future__ import annotations

import asyncio
import json
import re

from pywebpush import WebPushException, webpush
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.notifications import PushSubscription
from web.core import audit
from web.core.auth import me, signing_up
from web.core.budgets import PAGE, queries
from web.core.settings import Settings

#: Seconds a push service has to accept the connection, and again to answer: one that never
#: answers is a failed attempt, retried with the worker's backoff, not a stuck worker.
TIMEOUT = 10.0

BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class SubscriptionGone(Exception):
    """The push service says this subscription no longer exists (404 or 410)."""


def max_length(field: str) -> int:
    """The length PushSubscription's column holds: one limit, the table's."""
    length = getattr(PushSubscription._meta.fields_map[field], "max_length", None)
    assert isinstance(length, int)
    return length


def read_subscription(body: object, settings: Settings) -> tuple[dict[str, str] | None, str]:
    """The subscription in `body` when every field is a non-empty string that fits its
    column (endpoint at an allowed push service, keys base64url); else why not."""
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        return None, "Expected a push subscription: {endpoint, keys: {p256dh, auth}}."
    endpoint, keys = body.get("endpoint"), body["keys"]
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) and v for v in (endpoint, p256dh, auth)):
        return None, "The subscription needs an endpoint, a p256dh key and an auth secret."
    assert isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)
    too_long = len(endpoint) > max_length("endpoint")
    if too_long or not endpoint.startswith(settings.push_allowed_endpoints):
        return None, "That push service is not one this server may use."
    for key, field in ((p256dh, "p256dh"), (auth, "auth")):
        if len(key) > max_length(field) or not BASE64URL.match(key):
            return None, "The subscription's keys are not valid."
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}, ""


async def keep(practitioner_id: int, subscription: dict[str, str]) -> None:
    """Insert the subscription, or update the row its endpoint already has (a browser's
    subscription moves to whoever subscribes it last). Simultaneous sends of one subscription
    (a retry, two tabs) race for the unique endpoint: the loser updates the winner's row."""
    endpoint, p256dh, auth = subscription["endpoint"], subscription["p256dh"], subscription["auth"]
    for _attempt in range(3):
        if await PushSubscription.filter(endpoint=endpoint).update(
            practitioner_id=practitioner_id, p256dh=p256dh, auth=auth
        ):
            return
        try:
            async with in_transaction():  # so a refused insert aborts only itself (PostgreSQL)
                await PushSubscription.create(
                    practitioner_id=practitioner_id, endpoint=endpoint, p256dh=p256dh, auth=auth
                )
            return
        except IntegrityError:
            continue  # another request inserted it first: update that row
    raise RuntimeError("push subscription neither inserted nor updated")


async def json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@queries(5)
@signing_up  # step 6 of signup turns alerts on
async def subscribe(request: Request) -> Response:
    """Keep this browser's push subscription for the signed-in practitioner."""
    settings: Settings = request.app.state.settings
    subscription, problem = read_subscription(await json_body(request), settings)
    if subscription is None:
        return JSONResponse({"error": problem}, status_code=422)
    await keep(me(request).id, subscription)
    await audit.record(request, "push.subscribed")
    return JSONResponse({"subscribed": True}, status_code=201)


@queries(PAGE)
@signing_up
async def unsubscribe(request: Request) -> Response:
    """Forget this browser's push subscription."""
    body = await json_body(request)
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str):
        return JSONResponse({"error": "Expected {endpoint}."}, status_code=422)
    await PushSubscription.filter(endpoint=endpoint, practitioner_id=me(request).id).delete()
    await audit.record(request, "push.unsubscribed")
    return Response(status_code=204)


async def send(settings: Settings, subscription: PushSubscription, payload: str) -> None:
    """Encrypt (aes128gcm) and send one push with a VAPID signature; raise to retry."""
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    try:
        # webpush() blocks (requests) and fills in the claims dict it is given: a fresh one each.
        await asyncio.to_thread(
            webpush,
            info,
            payload,
            vapid_private_key=settings.vapid_private_key,
            vapid_claims={"sub": settings.vapid_subject},
            ttl=24 * 3600,
            timeout=TIMEOUT,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in (404, 410):
            raise SubscriptionGone(f"push service answered {status}") from error
        raise


routes = [
    Route("/push/subscriptions", subscribe, methods=["POST"]),
    Route("/push/subscriptions", unsubscribe, methods=["DELETE"]),
]
