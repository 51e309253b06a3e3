"""Wide-area practitioners (issue 16): search headings and empty messages stay one line however
many areas they hold, the names behind a disclosure; automatic areas can be turned off."""

from __future__ import annotations

import re

from models.areas import Area
from models.audit import AuditEvent
from models.practitioners import Practitioner, PractitionerArea
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core.scopes import Scopes, my_areas, scope_changed, search_scopes

BRIMBANK, MELTON, WYNDHAM = "LGA21180", "LGA24650", "LGA27260"


def scopes_of(councils: list[str], districts: list[str]) -> Scopes:
    return Scopes(
        local=[Area(name=name, kind="council") for name in councils],
        district_council_ids=[],
        district_label=" and ".join(districts) or "your district",
        state_label="Victoria",
        district_names=tuple(districts),
    )


def test_one_or_two_short_names_are_named_more_are_counted():
    one = scopes_of(["Brimbank"], ["Brimbank Melton"])
    assert (one.local_heading, one.local_named, one.local_where) == (
        "In your areas",
        "Brimbank",
        "Brimbank",
    )
    assert one.district_heading == "Elsewhere in Brimbank Melton"
    two = scopes_of(["Brimbank", "Melton"], ["Barwon", "Loddon"])
    assert (two.local_heading, two.local_named) == ("In your areas", "Brimbank and Melton")
    assert two.district_heading == "Elsewhere in Barwon and Loddon"
    long_two = scopes_of(
        ["Mornington Peninsula", "Greater Shepparton"], ["Outer Eastern Melbourne"]
    )
    assert long_two.local_heading == "In your 2 areas" and long_two.local_named is None
    assert long_two.local_where == "your 2 areas"
    assert long_two.district_heading == "Elsewhere in Outer Eastern Melbourne"
    wide = scopes_of([f"Council {n}" for n in range(45)], [f"District {n}" for n in range(13)])
    assert (wide.local_heading, wide.local_where) == ("In your 45 areas", "your 45 areas")
    assert wide.district_heading == "Elsewhere in 13 districts"
    none = scopes_of([], [])
    assert (none.local_heading, none.district_heading) == (
        "In your areas",
        "Elsewhere in your district",
    )


def headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="group-(?:local|district|state)-title">([^<]*)</h2>', html)


async def search(client, q: str = "zz qq") -> str:
    response = await client.get("/clients/search", params={"q": q})
    assert response.status_code == 200
    return response.text


async def test_one_area_and_two_are_named(client):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council(BRIMBANK))
    await sign_in(client, priya)
    html = await search(client)
    assert headings(html) == [
        "In your areas",
        "Elsewhere in Brimbank Melton",
        "Elsewhere in Victoria",
    ]
    assert '<p class="meta">Brimbank</p>' in html and "No one found in Brimbank." in html
    assert "<details" not in html

    await PractitionerArea.create(
        practitioner=priya, area=await support.council(WYNDHAM), position=1
    )
    await scope_changed(priya.id)
    html = await search(client)
    assert headings(html) == ["In your areas", "Elsewhere in 2 districts", "Elsewhere in Victoria"]
    assert "No one found in Brimbank and Wyndham." in html
    assert "<summary>Which 2 districts</summary><p>Brimbank Melton, Western Melbourne</p>" in html


async def test_45_areas_are_counted_with_the_names_behind_a_disclosure(client):
    aroha = await support.practitioner(
        "Aroha Ngata", "aroha.ngata@dffh.example", job_title="Child Protection Practitioner"
    )
    councils = await Area.filter(kind="council").order_by("code").limit(45)
    for n, area in enumerate(councils):
        await support.member(await support.client("Ruby", f"Client{n}", area=area), aroha)
    districts = {area.parent_id for area in councils}  # type: ignore[attr-defined]
    await sign_in(client, aroha)
    html = await search(client)
    assert headings(html) == [
        "In your 45 areas",
        f"Elsewhere in {len(districts)} districts",
        "Elsewhere in Victoria",
    ]
    assert all(len(h) <= 30 for h in headings(html))
    assert "No one found in your 45 areas." in html
    listed = re.search(r"<summary>Which 45 areas</summary><p>([^<]*)</p>", html)
    assert listed and listed.group(1).count(", ") == 44
    assert f"<summary>Which {len(districts)} districts</summary>" in html
    # The profile lists them too, behind a disclosure, not as a page of names.
    profile = (await client.get("/profile")).text
    assert "Added for you</strong> while you are on a client's team there: 45 areas." in profile
    assert (
        '<details class="area-list">' in profile and "<summary>Which 45 areas</summary>" in profile
    )


async def post(client, path: str, **data: str):
    return await client.post(
        path, data={"csrf_token": await csrf_token(client, "/profile"), **data}
    )


async def test_automatic_areas_can_be_turned_off_and_on(client):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council(WYNDHAM))
    brimbank = await support.client("Mia", "Thompson", area=await support.council(BRIMBANK))
    await support.member(brimbank, priya)
    other = await support.client("Mia", "Thompson", area=await support.council(BRIMBANK))
    await sign_in(client, priya)
    html = await search(client, "mia thompson")
    assert f"/clients/{other.id}/join" in html.split('id="group-local"')[1].split("</section>")[0]
    page = (await client.get("/profile")).text
    assert 'name="automatic_areas" value="on" aria-describedby="automatic-hint" checked' in page
    version = (await Practitioner.get(id=priya.id)).scope_version

    off = await post(client, "/profile/automatic-areas")
    assert off.status_code == 303
    assert off.headers["location"] == "/profile?saved=automatic#automatic-heading"
    saved = await Practitioner.get(id=priya.id)
    assert saved.automatic_areas is False and saved.scope_version == version + 1
    assert [a.name for a in (await search_scopes(saved)).local] == ["Wyndham"]
    assert [a.name for a in (await my_areas(saved)).mine] == ["Wyndham"]
    assert [a.name for a, _n in (await my_areas(saved)).automatic] == ["Brimbank"]
    event = await AuditEvent.get(action="profile.areas", actor_id=priya.id)
    assert event.detail == {"automatic": False}
    html = await search(client, "mia thompson")
    local = html.split('id="group-local"')[1].split("</section>")[0]
    assert "Brimbank" not in local and f"/clients/{other.id}/" not in local
    page = (await client.get("/profile?saved=automatic")).text
    assert "Search looks first only in the areas you chose." in page
    assert "<strong>Not added</strong>: you are on clients' teams in 1 other area" in page
    assert 'aria-describedby="automatic-hint">' in page  # no longer checked

    on = await post(client, "/profile/automatic-areas", automatic_areas="on")
    assert on.status_code == 303
    saved = await Practitioner.get(id=priya.id)
    assert saved.automatic_areas is True and saved.scope_version == version + 2
    assert [a.name for a in (await search_scopes(saved)).local] == ["Wyndham", "Brimbank"]
    assert await AuditEvent.filter(action="profile.areas", actor_id=priya.id).count() == 2
    # Only a tick ("on") or none is a choice: anything else is refused and changes nothing.
    token = await csrf_token(client, "/profile")
    for odd in ({"automatic_areas": "off"}, {"automatic_areas": ["on", "on"]}):
        refused = await client.post("/profile/automatic-areas", data={**odd, "csrf_token": token})
        assert refused.status_code == 400, odd
    assert (await Practitioner.get(id=priya.id)).automatic_areas is True
    assert await AuditEvent.filter(action="profile.areas", actor_id=priya.id).count() == 2


async def test_the_choice_needs_the_csrf_token_and_a_signed_in_practitioner(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    await client.get("/profile")
    refused = await client.post("/profile/automatic-areas", data={})
    assert refused.status_code == 403
    assert (await Practitioner.get(id=priya.id)).automatic_areas is True
    assert not await AuditEvent.filter(action="profile.areas").exists()
    token = await csrf_token(client, "/profile")
    await client.post("/signout", data={"csrf_token": token})
    anonymous = await client.post("/profile/automatic-areas", data={"csrf_token": token})
    assert anonymous.status_code in (303, 401, 403)
    assert (await Practitioner.get(id=priya.id)).automatic_areas is True


async def test_rows_written_without_the_column_have_automatic_areas(db):
    """The migration's database default: practitioners from before it keep their areas added."""
    from tortoise import connections

    priya = await support.practitioner()
    await Practitioner.filter(id=priya.id).update(automatic_areas=False)
    projection = Practitioner._meta.fields_db_projection.values()
    copied = ", ".join(f'"{c}"' for c in projection if c not in ("id", "email", "automatic_areas"))
    await connections.get("default").execute_script(
        f"INSERT INTO practitioner (email, {copied}) "
        f"SELECT 'priya.copy@brimbank.example', {copied} FROM practitioner"
    )
    copy = await Practitioner.get(email="priya.copy@brimbank.example")
    assert copy.automatic_areas is True
