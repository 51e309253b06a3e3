"""The privacy screen: a device cookie holding only "on", and names as initials while it is."""

from __future__ import annotations

import re
from types import SimpleNamespace

from models.audit import AuditEvent
from models.circles import CircleLink
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core.cookies import PRIVACY_SCREEN
from web.core.render import env

BAR = '<div class="privacy-bar">'
MIA = (
    '<span class="shielded"><span class="full">Mia Thompson</span>'
    '<span class="initials">M. T.</span></span>'
)


async def turn(client, value: str, **fields: str):
    token = await csrf_token(client, "/profile")
    return await client.post(
        "/profile/privacy-screen", data={"csrf_token": token, "privacy_screen": value, **fields}
    )


def shown(page: str, name: str) -> int:
    """How often `name` appears outside the full names a shield hides (a span, or the circle
    picture's SVG text): titles included, which tabs and the app switcher show."""
    body = re.sub(r'<(span|text) class="[^"]*\bfull">.*?</\1>', "", page, flags=re.S)
    return body.count(name)


async def test_turning_it_on_sets_a_device_cookie_and_names_show_as_initials(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    assert BAR not in (await client.get("/")).text

    response = await turn(client, "on", next="/")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{PRIVACY_SCREEN}=on;")
    assert all(flag in cookie for flag in ("Path=/", "HttpOnly", "SameSite=Lax", "Max-Age="))
    assert client.cookies[PRIVACY_SCREEN] == "on"
    assert await AuditEvent.filter(
        action="profile.updated", actor_id=priya.id, detail={"privacy_screen": True}
    ).exists()

    dashboard = (await client.get("/")).text
    assert BAR in dashboard and "names show as initials." in dashboard
    assert '<input type="checkbox" id="show-names">' in dashboard
    assert '<label for="show-names">Show names</label>' in dashboard
    assert MIA in dashboard and shown(dashboard, "Mia Thompson") == 0
    assert "Turn off the privacy screen" in (await client.get("/profile")).text


async def test_turning_it_off_deletes_the_cookie_and_names_show_in_full(client):
    priya, _aroha, _sam, _mia = await support.thompson_team()
    await sign_in(client, priya)
    await turn(client, "on")
    response = await turn(client, "off", next="/")
    assert response.status_code == 303
    assert response.headers["set-cookie"].startswith(f"{PRIVACY_SCREEN}=;")
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert PRIVACY_SCREEN not in client.cookies
    dashboard = (await client.get("/")).text
    assert BAR not in dashboard and "shielded" not in dashboard
    assert shown(dashboard, "Mia Thompson") == 1
    assert await AuditEvent.filter(detail={"privacy_screen": False}).exists()
    assert "Turn on the privacy screen" in (await client.get("/profile")).text


async def test_without_the_csrf_token_it_is_refused_and_nothing_changes(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await csrf_token(client, "/profile")
    refused = await client.post("/profile/privacy-screen", data={"privacy_screen": "on"})
    assert 400 <= refused.status_code < 500
    assert PRIVACY_SCREEN not in refused.headers.get("set-cookie", "")
    assert PRIVACY_SCREEN not in client.cookies
    assert not await AuditEvent.filter(detail={"privacy_screen": True}).exists()


async def test_it_goes_back_only_to_a_path_of_this_site(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    for unsafe in ("//evil.example", "https://evil.example/", "/\\evil.example", "", "profile"):
        response = await turn(client, "on", next=unsafe)
        assert response.headers["location"] == "/profile", unsafe
    assert (await turn(client, "on")).headers["location"] == "/profile"
    back = f"/clients/{mia.id}?tab=team"
    assert (await turn(client, "off", next=back)).headers["location"] == back


async def test_signed_out_it_is_refused_and_sets_nothing(client):
    token = await csrf_token(client)
    response = await client.post(
        "/profile/privacy-screen", data={"csrf_token": token, "privacy_screen": "on"}
    )
    assert response.status_code == 401
    assert PRIVACY_SCREEN not in response.headers.get("set-cookie", "")
    assert PRIVACY_SCREEN not in client.cookies


async def test_the_cookie_holds_nothing_personal(client):
    priya, _aroha, _sam, _mia = await support.thompson_team()
    await sign_in(client, priya)
    response = await turn(client, "on", next="/")
    name_and_value = response.headers["set-cookie"].split(";")[0]
    assert name_and_value == f"{PRIVACY_SCREEN}=on"
    assert client.cookies[PRIVACY_SCREEN] == "on"


async def test_lists_cards_the_team_page_and_circle_and_alerts_show_initials(client):
    priya, aroha, _sam, _tom, mia, leo = await support.thompson_siblings()
    await sign_in(client, priya)
    path = f"/clients/{mia.id}/circle"
    await client.post(
        path,
        data={
            "csrf_token": await csrf_token(client, path),
            "other": str(leo.id),
            "relationship": "sibling",
        },
    )
    assert await CircleLink.exists()
    await turn(client, "on")
    for page_path in (f"/clients/{mia.id}", path, "/clients/search?q=mia+thompson"):
        page = (await client.get(page_path)).text
        assert BAR in page and MIA in page, page_path
        assert shown(page, "Mia Thompson") == 0, page_path
    team = (await client.get(f"/clients/{mia.id}")).text
    assert '<nav class="tabs" aria-label="About M. T.">' in team
    assert 'also known as <span class="shielded"><span class="full">Mimi</span>' in team
    circle = (await client.get(path)).text
    assert (
        shown(circle, "Leo Thompson") == 0
        and 'Remove link<span class="visually-hidden"> with <span class="shielded">' in circle
    )
    assert 'aria-label="L. T., sibling,' in circle
    # Confirmation pages, the title and the circle's list of your clients too.
    for page_path in (
        f"/clients/{mia.id}/leave",
        f"/clients/{mia.id}/checkin",
        f"/clients/{mia.id}/circle/{(await CircleLink.first()).id}/remove",
    ):
        page = (await client.get(page_path)).text
        assert shown(page, "Mia Thompson") == 0 and shown(page, "Leo Thompson") == 0, page_path
    assert "<title>M. T. – Patchwork</title>" in team
    jade = await support.client("Jade", "Thompson", area=mia.area)
    await support.member(jade, priya)
    assert shown((await client.get(path)).text, "Jade Thompson") == 0
    # htmx fragments are shielded too: the page's bar and CSS rule cover what they bring.
    fragment = (
        await client.get("/clients/search?q=mia+thompson", headers={"HX-Request": "true"})
    ).text
    assert MIA in fragment and shown(fragment, "Mia Thompson") == 0

    await sign_in(client, aroha)  # told of the link, on this device with the screen still on
    alerts = (await client.get("/notifications")).text
    assert BAR in alerts and MIA in alerts and shown(alerts, "Mia Thompson") == 0


def initials(name: str) -> str:
    request = SimpleNamespace(cookies={PRIVACY_SCREEN: "on"})
    return str(
        env.get_template("macros/privacy.html").make_module({"request": request}).initials(name)
    )


def test_initials_take_each_word_and_each_hyphenated_part():
    assert initials("Mia Thompson") == "M. T."
    assert initials("Mary-Jane O'Neil") == "M.-J. O."
    assert initials("'Ofa  Tupou-Vea") == "O. T.-V."
    assert initials("d'Arcy (Dee) van der Berg") == "D. D. V. D. B."
    assert initials("  ") == ""
