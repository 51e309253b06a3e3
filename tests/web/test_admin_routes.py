"""The administration routes with each role (issue 14, point 1): every one is for
administrators only, on the server; a local administrator reaches what is in their areas and
nothing outside them; every change needs a recent sign-in; and no administrator sees a
client's team they are not on."""

from __future__ import annotations

from datetime import timedelta

from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import csrf_token, sign_in, without_csrf
from tests.web.test_route_inventory import inventory
from web.admin.rules import ADMIN_ROLES
from web.app import create_app
from web.core import clock

#: The one administration address outside /admin: invitations, shared with practitioners.
SHARED_WITH_PRACTITIONERS = {"/invitations"}


def admin_routes(settings) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _route in inventory(create_app(settings)) if p.startswith("/admin")]


async def people() -> dict[str, Practitioner]:
    """Grace (Brimbank Melton), Morgan (the state), Priya (a practitioner in Brimbank) and
    Tom (a practitioner in Wyndham, outside Grace's areas)."""
    wyndham = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    return {
        "priya": await Practitioner.get_or_none(email="priya.nair@brimbank.example")
        or await support.practitioner(),
        "tom": await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example", wyndham),
        "grace": await support.local_admin("grace.okafor@brimbank.example"),
        "morgan": await support.practitioner(
            "Morgan Reid", "morgan.reid@brimbank.example", role="state_admin"
        ),
    }


async def outside_ids() -> dict[str, int]:
    """For each path parameter, an id outside Grace's areas (in Wyndham)."""
    tom = await Practitioner.get(email="tom.walsh@wyndham.example")
    return {
        "organisation_id": tom.organisation_id,  # type: ignore[attr-defined]
        "practitioner_id": tom.id,
    }


def url_for(path: str, ids: dict[str, int]) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:int}}", str(value))
    assert "{" not in path, f"a test id is needed for {path}"
    return path


async def test_every_admin_route_is_for_administrators_only(settings):
    routes = inventory(create_app(settings))
    admin = [(m, p, r) for m, p, r in routes if p.startswith("/admin")]
    assert len(admin) >= 10
    for method, path, route in admin:
        assert getattr(route.endpoint, "roles", None) == ADMIN_ROLES, (method, path)


async def test_a_practitioner_is_refused_every_admin_route_and_changes_nothing(settings, client):
    who = await people()
    await sign_in(client, who["priya"])
    token = await csrf_token(client, "/")
    ids = await outside_ids()
    before = await support.snapshot()
    for method, path in admin_routes(settings):
        url = url_for(path, ids) if "{" in path else path
        if method == "GET":
            refused = await client.get(url)
        else:
            refused = await client.request(method, url, headers={"X-CSRF-Token": token})
        assert refused.status_code == 403, (method, path, refused.status_code)
        assert "This page is for administrators." in refused.text
    assert support.changed(before, await support.snapshot()) == []


async def test_each_administrator_reaches_every_admin_page_in_their_areas(settings, client):
    who = await people()
    pages = [p for m, p in admin_routes(settings) if m == "GET" and "{" not in p]
    assert "/admin" in pages and "/admin/audit" in pages
    for name in ("grace", "morgan"):
        await sign_in(client, who[name])
        for path in [*pages, *SHARED_WITH_PRACTITIONERS]:
            page = await client.get(path)
            assert page.status_code == 200, (name, path, page.status_code)
            if page.headers["content-type"].startswith("text/html"):
                assert "<h1" in page.text, (name, path)


async def test_outside_her_areas_a_local_administrator_finds_nothing(settings, client):
    """Wyndham's organisation and practitioner answer Grace exactly as an id that does not
    exist; the state administrator reaches them."""
    who = await people()
    ids = await outside_ids()
    missing = {name: 2_000_000 for name in ids}
    pages = [p for m, p in admin_routes(settings) if m == "GET" and "{" in p]
    assert pages
    await sign_in(client, who["grace"])
    for path in pages:
        outside, nowhere = (
            (await client.get(url_for(path, ids))),
            await client.get(url_for(path, missing)),
        )
        assert outside.status_code == nowhere.status_code == 404, path
        assert without_csrf(outside.text) == without_csrf(nowhere.text), path
    await sign_in(client, who["morgan"])
    for path in pages:
        assert (await client.get(url_for(path, ids))).status_code == 200, path


async def test_every_admin_change_needs_a_sign_in_within_15_minutes(settings, client):
    """Signed in 16 minutes ago, every change of Grace's (on what is in her areas) is answered
    with the page asking her to sign in again, and changes nothing."""
    who = await people()
    await sign_in(client, who["grace"])
    token = await csrf_token(client, "/")
    inside = {
        "organisation_id": who["priya"].organisation_id,  # type: ignore[attr-defined]
        "practitioner_id": who["priya"].id,
    }
    changes = [(m, p) for m, p in admin_routes(settings) if m != "GET"]
    assert changes
    before = await support.snapshot()
    with clock.shifted(timedelta(minutes=16)):
        for method, path in changes:
            refused = await client.request(
                method, url_for(path, inside), headers={"X-CSRF-Token": token}
            )
            assert refused.status_code == 403, (method, path, refused.status_code)
            assert "Please sign in again" in refused.text, (method, path)
            assert "/signin?next=" in refused.text, (method, path)
    assert support.changed(before, await support.snapshot()) == []


async def test_an_administrator_never_sees_a_team_they_are_not_on(settings, client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await people()
    for email in ("grace.okafor@brimbank.example", "morgan.reid@brimbank.example"):
        await sign_in(client, await Practitioner.get(email=email))
        for path in (f"/clients/{mia.id}", f"/clients/{mia.id}/history"):
            page = await client.get(path)
            assert page.status_code in (403, 404), (email, path)
            assert "Thompson" not in page.text and priya.name not in page.text
