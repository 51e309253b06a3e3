"""The CSRF walk: every unsafe route in `app.routes` refuses a request without a valid token,
whoever is signed in, and stores nothing — so a new route cannot forget it.

Priya is signed in, on Mia's and Leo's teams, with an attention, a circle link, an invitation,
a passkey and another device to act on. Each unsafe route (every method but GET and HEAD,
found by iterating `app.routes`) is sent a valid body that would change something, first
without any token, then with the token of another browser's session (in the form, and in the
`X-CSRF-Token` header htmx sends), then with a forged header and a forged form field. Each is
the CSRF refusal (403, "This form was out of date…") and leaves every table exactly as it was.

Decision: not even the ledgers (`audit_event`, `rate_limit_hit`) may gain a row here, unlike
the hostile-input test's refusals: the CSRF check runs before sessions are read, so nothing is
attributed or counted, and a forged request cannot fill the audit trail in someone's name.

Last, the same request with Priya's own token must get past the check (whatever the route then
answers), so each refusal above is the token's doing and not some other refusal; and at least
half of them then change what is stored, so "nothing changed" above was worth checking.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import httpx
from starlette.routing import Route

from models.attentions import Attention
from models.auth import PasskeyCredential, Session
from models.circles import CircleLink, ordered_pair
from models.family import FamilyCard
from models.invitations import Invitation
from tests import support
from tests.support import changed, snapshot
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core import clock
from web.core.auth import token_hash
from web.core.security import SAFE_METHODS

REFUSAL = "This form was out of date or came from another site."


@dataclass
class World:
    priya: httpx.AsyncClient
    #: Path parameters of real rows Priya may act on, by name.
    ids: dict[str, str]
    form: dict[str, str]


def unsafe_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every route that changes things; those that end a session last."""
    found = [
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in sorted(route.methods - set(SAFE_METHODS))
    ]
    return sorted(found, key=lambda t: ("signout" in t[1] or "leave" in t[1], t))


def concrete(path: str, ids: dict[str, str]) -> str:
    """/clients/{client_id:int}/attentions/{attention_id:int} → the world's real ids."""
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "1"), path)


async def build_world(priya_http: httpx.AsyncClient) -> World:
    priya, aroha, _sam, _tom, mia, leo = await support.thompson_siblings()
    attention = await Attention.create(client=mia, raised_by=aroha, text="Please call me")
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    link = await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    invitation_token = secrets.token_urlsafe(32)
    invitation = await Invitation.create(
        email="nina.new@brimbank.example",
        token_hash=token_hash(invitation_token),
        invited_by=priya,
        expires_at=clock.now() + timedelta(days=3),
    )
    passkey = await PasskeyCredential.create(
        practitioner=priya, credential_id="walk-credential", public_key=b"key", name="Phone"
    )
    card = await FamilyCard.create(
        token_hash="walk-family-card",
        client=mia,
        recipient="Jade (mother)",
        method="qr",
        created_by=priya,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(days=30),
    )
    await sign_in(priya_http, priya)
    moment = clock.now()
    other_device = await Session.create(
        token_hash="walk-other-device",
        practitioner=priya,
        created_at=moment,
        last_seen_at=moment,
        authenticated_at=moment,
        method="email",
    )
    ids = {
        "client_id": str(mia.id),
        "attention_id": str(attention.id),
        "link_id": str(link.id),
        "invitation_id": str(invitation.id),
        "passkey_id": str(passkey.id),
        "session_id": str(other_device.id),
        "card_id": str(card.id),
        "token": invitation_token,
        "step": "1",
        "key": "clients",
    }
    form = {
        "text": "Missed two appointments",
        "category": "concern",
        "date": (clock.today() + timedelta(days=2)).isoformat(),
        "time": "10:00",
        "minutes": "30",
        "place": "Room 2",
        "email": "tom.walsh@wyndham.example",
        "role": "Maternal & Child Health Nurse",
        "working_with": "yes",
        "reason": "other",
        "other": str(leo.id),
        "relationship": "parent",
        "given_name": "Nova",
        "family_name": "Hill",
        "birth": "unknown",
        "area_id": str((await support.council()).id),
        "sharing_basis": "consent",
        "name": "Priya Nair-Smith",
        "job_title": "Nurse",
        "phone": "03 5550 9999",
        "notify_email": "off",
        "notify_push": "off",
        "notify_in_app": "immediate",
        "discreet": "yes",
        "confirmed": "yes",
        "agreed": "yes",
        "safe": "yes",
        "recipient": "Jade (mother)",
        "method": "email",
        "days": "30",
        "listing": "never",
        "family_listing": "ask",
    }
    return World(priya_http, ids, form)


def forged_token() -> str:
    """Shaped like a real token (an HMAC-SHA256 in hex), made with a key nobody has."""
    return hmac.new(b"not-the-secret-key", secrets.token_bytes(32), hashlib.sha256).hexdigest()


def refused(response: httpx.Response) -> bool:
    return response.status_code == 403 and REFUSAL in response.text


async def test_every_unsafe_route_refuses_a_missing_stolen_or_forged_token(settings):
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as priya,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as elsewhere,
    ):
        world = await build_world(priya)
        await sign_in(elsewhere, await support.practitioner("Kim Lee", "kim.lee@brimbank.example"))
        stolen = await csrf_token(elsewhere, "/")
        own = await csrf_token(priya, "/")
        assert stolen != own
        form = "application/x-www-form-urlencoded"
        routes = unsafe_routes(app)
        for method, path in routes:
            url = concrete(path, world.ids)
            body = urlencode(world.form)
            attempts = {
                "no token": ({"Content-Type": form}, body),
                "another session's token in the form": (
                    {"Content-Type": form},
                    urlencode({**world.form, "csrf_token": stolen}),
                ),
                "another session's token in the header": (
                    {"Content-Type": form, "HX-Request": "true", "X-CSRF-Token": stolen},
                    body,
                ),
                "a forged header": (
                    {"Content-Type": form, "HX-Request": "true", "X-CSRF-Token": forged_token()},
                    body,
                ),
                "a forged form field": (
                    {"Content-Type": form},
                    urlencode({**world.form, "csrf_token": forged_token()}),
                ),
            }
            for what, (headers, content) in attempts.items():
                before = await snapshot()
                response = await priya.request(method, url, headers=headers, content=content)
                where = f"{method} {path} with {what}: {response.status_code}"
                assert refused(response), where
                assert not changed(before, await snapshot(), ledgers=()), where
        # The same requests with Priya's own token get past the check: the token refused them.
        # And they were worth refusing: most of them change what is stored.
        harmful = []
        for method, path in routes:
            before = await snapshot()
            response = await priya.request(
                method,
                concrete(path, world.ids),
                headers={"Content-Type": form},
                content=urlencode({**world.form, "csrf_token": own}),
            )
            assert not refused(response), f"{method} {path} refused with a valid token"
            if changed(before, await snapshot()):
                harmful.append((method, path))
        # (Administration routes refuse Priya after the check, so they change nothing here.)
        practitioners_routes = [r for r in routes if not r[1].startswith("/admin")]
        assert len(harmful) >= len(practitioners_routes) // 2, harmful
    # Iterated from app.routes: these are some of them, every kind of unsafe method.
    assert {
        ("POST", "/clients/{client_id:int}/leave"),
        ("POST", "/clients/{client_id:int}/attentions/{attention_id:int}/resolve"),
        ("DELETE", "/push/subscriptions"),
        ("POST", "/signout"),
        ("POST", "/signin"),
    } <= set(routes)
