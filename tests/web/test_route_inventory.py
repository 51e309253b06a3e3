"""Every route refuses anonymous visitors unless it is on the explicit public list below."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Mount, Route

from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app

#: (method, path) pairs anyone may use. Adding one is a decision: write it here.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/manifest.webmanifest"),
    ("GET", "/sw.js"),
    ("GET", "/offline"),
    ("GET", "/signin"),
    ("POST", "/signin"),
    ("GET", "/signin/link"),
    ("POST", "/signin/link"),
    ("POST", "/signout"),
    ("POST", "/passkeys/authenticate/options"),
    ("POST", "/passkeys/authenticate"),
    ("GET", "/sso/callback"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    ("GET", "/invitations/{token}"),
    ("POST", "/invitations/{token}"),
    ("GET", "/family/{token}"),
}
PUBLIC_MOUNTS = {"/static"}
#: (method, path) pairs open to someone still answering the signup questions (`@signing_up`):
#: the questions, creating a passkey (step 5), push alerts (step 6), and the badge every page
#: asks for. Adding one is a decision: write it here.
DURING_SIGNUP = {
    ("GET", "/signup/{step:int}"),
    ("POST", "/signup/{step:int}"),
    ("POST", "/passkeys/register/options"),
    ("POST", "/passkeys/register"),
    ("POST", "/push/subscriptions"),
    ("DELETE", "/push/subscriptions"),
    ("GET", "/notifications/badge"),
}


def concrete(path: str) -> str:
    """/clients/{client_id:int} → /clients/1"""
    return re.sub(r"\{[^}]+\}", "1", path)


def inventory(app) -> list[tuple[str, str, Route]]:
    found = []
    for route in app.routes:
        if isinstance(route, Mount):
            assert route.path in PUBLIC_MOUNTS, f"unexpected mount {route.path}"
            continue
        assert isinstance(route, Route)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, route.path, route))
    return found


async def test_the_public_list_matches_the_routes_marked_public(settings):
    app = create_app(settings)
    marked = {
        (method, path)
        for method, path, route in inventory(app)
        if getattr(route.endpoint, "public", False)
    }
    assert marked == PUBLIC


#: What every route answers a request that needs a session and has none (htmx, JSON, a form).
SIGN_IN_AGAIN = "Please sign in again."
#: What the CSRF check answers: a different refusal, which this walk must never meet.
CSRF_REFUSAL = "This form was out of date"


def anonymous_refusal(response: httpx.Response) -> bool:
    """The missing-session refusal exactly: 401 saying "sign in", not a CSRF 403."""
    return (
        response.status_code == 401
        and SIGN_IN_AGAIN in response.text
        and CSRF_REFUSAL not in response.text
    )


async def test_every_other_route_refuses_an_anonymous_request(settings, client):
    app = create_app(settings)
    token = await csrf_token(client)
    routes = inventory(app)
    checked = {"GET": 0, "unsafe": 0}
    for method, path, _route in routes:
        if (method, path) in PUBLIC:
            continue
        url = concrete(path)
        if method == "GET":
            page = await client.get(url)
            assert page.status_code == 303, (method, path)
            assert page.headers["location"].startswith("/signin?next="), (method, path)
            for headers in ({"HX-Request": "true"}, {"Accept": "application/json"}):
                refused = await client.get(url, headers=headers)
                assert anonymous_refusal(refused), (method, path, headers, refused.status_code)
            # htmx is told to go to sign-in (and back to the page it was on), not to swap in
            # the refusal.
            fragment = await client.get(
                url, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/people"}
            )
            assert fragment.headers["hx-redirect"] == "/signin?next=%2Fpeople", (method, path)
            checked["GET"] += 1
        else:
            # A valid CSRF token, so it is the missing session that refuses: 401, not 403.
            for headers in ({"X-CSRF-Token": token}, {"X-CSRF-Token": token, "HX-Request": "true"}):
                refused = await client.request(method, url, headers=headers)
                assert anonymous_refusal(refused), (method, path, headers, refused.status_code)
            checked["unsafe"] += 1
    # Every route but the public ones was walked, of both kinds.
    guarded = [(m, p) for m, p, _ in routes if (m, p) not in PUBLIC]
    assert checked["GET"] == len([1 for m, _p in guarded if m == "GET"]) > 0
    assert checked["unsafe"] == len([1 for m, _p in guarded if m != "GET"]) > 0
    assert sum(checked.values()) == len(routes) - len(PUBLIC)


async def test_the_signup_list_matches_the_routes_marked_signing_up(settings):
    app = create_app(settings)
    marked = {
        (method, path)
        for method, path, route in inventory(app)
        if getattr(route.endpoint, "during_signup", False)
    }
    assert marked == DURING_SIGNUP


async def test_an_unfinished_signup_is_refused_everywhere_but_signup(settings, client):
    """No name yet: every route but signup's own sends a page back to the next question and
    refuses anything else with 403, before it reads a client, a team or the phone book."""
    await support.thompson_team()  # client 1 exists, with a team
    nina = await support.practitioner("", "nina.new@brimbank.example", signup_step=2)
    await sign_in(client, nina)
    token = await csrf_token(client, "/signup/3")
    app = create_app(settings)
    checked = 0
    for method, path, _route in inventory(app):
        if (method, path) in PUBLIC | DURING_SIGNUP:
            continue
        url = concrete(path)
        if method == "GET":
            page = await client.get(url)
            assert page.status_code == 303, (method, path)
            assert page.headers["location"] == "/signup/3", (method, path)
            for headers in ({"HX-Request": "true"}, {"Accept": "application/json"}):
                refused = await client.get(url, headers=headers)
                assert refused.status_code == 403, (method, path, headers)
                assert "Finish signing up first" in refused.text
                assert "Thompson" not in refused.text and "Aroha" not in refused.text
        else:
            refused = await client.request(method, url, headers={"X-CSRF-Token": token})
            assert refused.status_code == 403, (method, path)
            assert "Finish signing up first" in refused.text
            assert CSRF_REFUSAL not in refused.text
        checked += 1
    assert checked == len(inventory(app)) - len(PUBLIC | DURING_SIGNUP)
    # Signup's own routes still answer.
    assert (await client.get("/signup/3")).status_code == 200
    assert (await client.get("/notifications/badge", headers={"HX-Request": "true"})).is_success


async def test_a_role_guard_refuses_other_roles_on_the_server(settings):
    from starlette.responses import PlainTextResponse

    from web.core.auth import requires_role

    @requires_role("state_admin")
    async def secret(request):
        return PlainTextResponse("admin only")

    app = create_app(settings)
    app.router.routes.append(Route("/admin-probe", secret))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        assert (await http.get("/admin-probe", headers={"HX-Request": "true"})).status_code == 401
        await sign_in(http, await support.practitioner())
        refused = await http.get("/admin-probe")
        assert refused.status_code == 403 and "admin only" not in refused.text
        await sign_in(
            http,
            await support.practitioner("Ada Admin", "ada@brimbank.example", role="state_admin"),
        )
        assert (await http.get("/admin-probe")).text == "admin only"
