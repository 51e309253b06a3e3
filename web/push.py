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

from models.notifications import PushSubscription
from web import audit
from web.auth import me, signing_up
from web.settings import Settings

BASE64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


class SubscriptionGone(Exception):
    """The push service says this subscription no longer exists (404 or 410)."""


def read_subscription(body: object, settings: Settings) -> tuple[dict[str, str] | None, str]:
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        return None, "Expected a push subscription: {endpoint, keys: {p256dh, auth}}."
    endpoint, keys = body.get("endpoint"), body["keys"]
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    if not all(isinstance(v, str) and v for v in (endpoint, p256dh, auth)):
        return None, "The subscription needs an endpoint, a p256dh key and an auth secret."
    assert isinstance(endpoint, str) and isinstance(p256dh, str) and isinstance(auth, str)
    if len(endpoint) > 1000 or not endpoint.startswith(settings.push_allowed_endpoints):
        return None, "That push service is not one this server may use."
    if not (BASE64URL.match(p256dh) and BASE64URL.match(auth)) or len(p256dh) > 200:
        return None, "The subscription's keys are not valid."
    return {"endpoint": endpoint, "p256dh": p256dh, "auth": auth}, ""


async def json_body(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


@signing_up  # step 6 of signup turns alerts on
async def subscribe(request: Request) -> Response:
    """Keep this browser's push subscription for the signed-in practitioner."""
    settings: Settings = request.app.state.settings
    subscription, problem = read_subscription(await json_body(request), settings)
    if subscription is None:
        return JSONResponse({"error": problem}, status_code=422)
    practitioner = me(request)
    await PushSubscription.filter(endpoint=subscription["endpoint"]).delete()
    await PushSubscription.create(
        practitioner=practitioner,
        endpoint=subscription["endpoint"],
        p256dh=subscription["p256dh"],
        auth=subscription["auth"],
    )
    await audit.record(request, "push.subscribed")
    return JSONResponse({"subscribed": True}, status_code=201)


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
            timeout=10,
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
