"""Finding clients local area first, adding one, joining and leaving a team."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from models.audit import AuditEvent
from models.clients import Client
from models.notifications import Notification, Outbox
from models.practitioners import PractitionerArea
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import references
from web.core.legal_bases import legal_bases

BRIMBANK, MELTON, WYNDHAM, GEELONG = "LGA21180", "LGA24650", "LGA27260", "LGA22750"


async def priya_in_brimbank():
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council(BRIMBANK))
    return priya


async def thompsons_everywhere():
    """Mia Thompson in Brimbank (Priya's area), Melton (same district) and Geelong."""
    return [
        await support.client(
            "Mia", "Thompson", area=await support.council(code), birth_date=date(2023, 3, 14 + n)
        )
        for n, code in enumerate((BRIMBANK, MELTON, GEELONG))
    ]


async def test_results_come_local_first_with_the_rest_behind_show_more(client):
    priya = await priya_in_brimbank()
    local, district, state = await thompsons_everywhere()
    await sign_in(client, priya)
    page = await client.get("/clients/search", params={"q": "mia thompsen"})
    assert page.status_code == 200
    html = page.text
    assert "In your areas" in html and "Elsewhere in Brimbank Melton" in html
    assert "Elsewhere in Victoria" in html
    assert f"/clients/{local.id}/join" in html
    assert f"/clients/{district.id}/join" not in html  # behind "Show more"
    assert html.count("Show more") == 2

    fragment = await client.get(
        "/clients/search",
        params={"q": "mia thompsen", "scope": "district"},
        headers={"HX-Request": "true"},
    )
    assert "<html" not in fragment.text and 'id="group-district"' in fragment.text
    assert (
        f"/clients/{district.id}/join" in fragment.text
        and f"/clients/{local.id}/" not in fragment.text
    )

    no_js = await client.get("/clients/search?q=mia+thompsen&show=district&show=state")
    assert (
        f"/clients/{district.id}/join" in no_js.text and f"/clients/{state.id}/join" in no_js.text
    )
    searches = await AuditEvent.filter(action="client.searched", actor_id=priya.id).order_by("id")
    assert [(e.detail["terms"], e.detail["scope"], e.detail["results"]) for e in searches][:2] == [
        ("mia thompsen", "local", 1),
        ("mia thompsen", "district", 1),
    ]


async def test_a_member_sees_view_team_instead_of_join(client):
    priya = await priya_in_brimbank()
    mia, _, _ = await thompsons_everywhere()
    await support.member(mia, priya)
    await sign_in(client, priya)
    html = (await client.get("/clients/search", params={"q": "mia thompson"})).text
    assert f'href="/clients/{mia.id}">View team' in html


async def test_no_browsing_one_fragment_is_not_enough(client):
    priya = await priya_in_brimbank()
    await thompsons_everywhere()
    await sign_in(client, priya)
    for params in ({"q": "thompson"}, {"q": "m t"}):
        html = (await client.get("/clients/search", params=params)).text
        assert "type at least two names" in html and "/join" not in html
    with_year = (await client.get("/clients/search", params={"q": "thompson", "born": "2023"})).text
    assert "/join" in with_year
    bad_date = await client.get(
        "/clients/search", params={"q": "mia thompson", "born": "31/2/2020"}
    )
    assert bad_date.status_code == 422 and "There is a problem" in bad_date.text
    assert await AuditEvent.filter(action="client.searched").count() == 1


async def test_searches_are_rate_limited_per_practitioner(client, settings):
    priya = await priya_in_brimbank()
    await sign_in(client, priya)
    for n in range(settings.search_rate_per_hour):
        assert (
            await client.get("/clients/search", params={"q": f"mia thompson{n}"})
        ).status_code == 200
    refused = await client.get("/clients/search", params={"q": "mia thompson"})
    assert refused.status_code == 429
    assert "stops anyone browsing for people" in refused.text
    assert await AuditEvent.filter(action="client.search_refused").count() == 1


async def test_my_areas_include_those_of_my_clients(client):
    priya = await priya_in_brimbank()
    wyndham = await support.client("Ava", "Walker", area=await support.council(WYNDHAM))
    await support.member(wyndham, priya)
    other = await support.client(
        "Ava", "Walker", area=await support.council(WYNDHAM), birth_date=date(2015, 1, 1)
    )
    await sign_in(client, priya)
    html = (await client.get("/clients/search", params={"q": "ava walker"})).text
    local = html.split('id="group-local"')[1].split("</section>")[0]
    assert f"/clients/{other.id}/join" in local


async def test_joining_needs_the_tick_and_alerts_the_visible_team(client, settings):
    priya = await priya_in_brimbank()
    tom = await support.practitioner(
        "Tom Walsh", "tom.walsh@wyndham.example", job_title="Youth Worker"
    )
    sam = await support.practitioner(
        "Sam Lee",
        "sam.lee@westsiderecovery.example",
        await support.organisation(
            "Westside Recovery Service", "westsiderecovery.example", sensitive=True
        ),
    )
    mia = await support.client()
    await support.member(mia, tom)
    await support.member(mia, sam, discreet=True)
    await sign_in(client, priya)

    link = references.join_url(settings.secret_key, priya.id, mia.id)
    ref = references.client_reference(settings.secret_key, priya.id, mia.id)
    form = await client.get(link)
    assert 'value="Maternal &amp; Child Health Nurse"' in form.text
    token = await csrf_token(client, link)
    refused = await client.post(
        f"/clients/{mia.id}/join", data={"role": "MCH Nurse", "ref": ref, "csrf_token": token}
    )
    assert refused.status_code == 422 and "Tick the box" in refused.text
    assert not await Membership.filter(practitioner=priya).exists()

    joined = await client.post(
        f"/clients/{mia.id}/join",
        data={"role": "MCH Nurse", "working_with": "yes", "ref": ref, "csrf_token": token},
    )
    assert joined.status_code == 303 and joined.headers["location"] == f"/clients/{mia.id}"
    membership = await Membership.get(practitioner=priya, client=mia)
    assert membership.role == "MCH Nurse" and not membership.discreet
    alerted = {
        n.practitioner_id for n in await Notification.filter(kind="joined", client_id=mia.id)
    }
    assert alerted == {tom.id, sam.id}  # the discreet member is told, not shown
    mails = await Outbox.all()
    assert {m.recipient for m in mails} == {tom.email, sam.email}
    for mail in mails:
        assert "Priya" not in mail.body and "Mia" not in mail.body and "Thompson" not in mail.body
    assert await AuditEvent.filter(
        action="team.joined", actor_id=priya.id, client_id=mia.id
    ).exists()
    assert (await client.get(f"/clients/{mia.id}")).status_code == 200


async def test_a_sensitive_service_joins_discreetly_and_alerts_nobody(client, settings):
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    sam = await support.practitioner(
        "Sam Lee",
        "sam.lee@westsiderecovery.example",
        await support.organisation(
            "Westside Recovery Service", "westsiderecovery.example", sensitive=True
        ),
    )
    mia = await support.client()
    await support.member(mia, tom)
    await sign_in(client, sam)
    link = references.join_url(settings.secret_key, sam.id, mia.id)
    page = await client.get(link)
    assert "You will join discreetly" in page.text
    token = await csrf_token(client, link)
    ref = references.client_reference(settings.secret_key, sam.id, mia.id)
    await client.post(
        f"/clients/{mia.id}/join",
        data={"role": "Clinician", "working_with": "yes", "ref": ref, "csrf_token": token},
    )
    assert (await Membership.get(practitioner=sam)).discreet
    assert await Notification.all().count() == 0 and await Outbox.all().count() == 0


async def test_leaving_asks_why_and_keeps_history(client):
    priya = await priya_in_brimbank()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    mia = await support.client()
    await support.member(mia, priya)
    await support.member(mia, tom)
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/leave")
    no_reason = await client.post(f"/clients/{mia.id}/leave", data={"csrf_token": token})
    assert no_reason.status_code == 422 and "Choose why you are leaving" in no_reason.text
    left = await client.post(
        f"/clients/{mia.id}/leave", data={"reason": "transferred", "csrf_token": token}
    )
    assert left.status_code == 303
    ended = await Membership.get(practitioner=priya, client=mia)
    assert ended.ended_at is not None and ended.end_reason == "transferred"
    assert [n.practitioner_id for n in await Notification.filter(kind="left")] == [tom.id]
    assert (await client.get(f"/clients/{mia.id}")).status_code == 403
    left_event = await AuditEvent.get(action="team.left", actor_id=priya.id)
    assert left_event.client_id == mia.id and left_event.detail["reason"] == "transferred"


async def test_a_discreet_member_leaving_tells_nobody(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}/leave")
    left = await client.post(
        f"/clients/{mia.id}/leave", data={"reason": "case_closed", "csrf_token": token}
    )
    assert left.status_code == 303
    ended = await Membership.get(practitioner=sam, client=mia)
    assert ended.ended_at is not None and ended.end_reason == "case_closed"
    assert not await Notification.filter(kind="left").exists()
    assert await Outbox.all().count() == 0
    assert await AuditEvent.filter(action="team.left", actor_id=sam.id).exists()


async def test_a_non_member_is_offered_to_join_and_sees_nothing_of_the_team(client):
    priya = await priya_in_brimbank()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    mia = await support.client()
    await support.member(mia, tom)
    await sign_in(client, priya)
    for path in (f"/clients/{mia.id}", f"/clients/{mia.id}/leave"):
        for headers in ({}, {"HX-Request": "true"}):
            response = await client.get(path, headers=headers)
            assert response.status_code == 403
            assert 'href="/clients/search">Find a client' in response.text
            assert "Tom" not in response.text and "1 team member" not in response.text


async def test_add_a_client_prefilled_with_duplicates_offered_first(client):
    priya = await priya_in_brimbank()
    existing = await support.client("Mia", "Thompson")
    await sign_in(client, priya)
    form = await client.get("/clients/new", params={"q": "Mia Thompsen", "born": "14/3/2023"})
    assert 'value="Mia"' in form.text and 'value="Thompsen"' in form.text
    assert 'value="2023-03-14"' in form.text
    brimbank = await support.council(BRIMBANK)
    assert f'<option value="{brimbank.id}" selected>' in form.text

    token = await csrf_token(client, "/clients/new")
    details = {
        "given_name": "Mia",
        "family_name": "Thompsen",
        "other_names": "",
        "birth": "date",
        "birth_date": "2023-03-14",
        "area_id": str(brimbank.id),
        "sharing_basis": "consent",
        "csrf_token": token,
    }
    offered = await client.post("/clients/new", data=details)
    assert offered.status_code == 200 and "Is it one of these?" in offered.text
    assert f"/clients/{existing.id}/join" in offered.text
    assert await Client.all().count() == 1

    added = await client.post("/clients/new", data={**details, "confirmed": "yes"})
    assert added.status_code == 303
    new = await Client.get(family_name="Thompsen")
    assert (await Membership.get(client=new)).practitioner_id == priya.id
    assert (await client.get(added.headers["location"])).status_code == 200
    assert await AuditEvent.filter(action="client.added", client_id=new.id).exists()
    found = (await client.get("/clients/search", params={"q": "mia thompsen"})).text
    assert f'href="/clients/{new.id}">View team' in found


async def test_a_new_client_needs_a_sharing_choice_and_gets_initial_capitals(client):
    """Issue 17: no sharing choice is made for the practitioner, and "mia thomsen" or
    "O'BRIEN-SMITH" typed in one case are saved as names are written; "McDonald" is kept."""
    priya = await priya_in_brimbank()
    await sign_in(client, priya)
    form = (await client.get("/clients/new", params={"q": "mia thomsen"})).text
    assert not re.search(r'name="sharing_basis" value="\w+" checked', form)
    token = await csrf_token(client, "/clients/new")
    brimbank = await support.council(BRIMBANK)
    details = {
        "given_name": "mia",
        "family_name": "O'BRIEN-SMITH",
        "other_names": "mimi McDonald",
        "birth": "year",
        "birth_year": "2023",
        "area_id": str(brimbank.id),
        "confirmed": "yes",
        "csrf_token": token,
    }
    refused = await client.post("/clients/new", data=details)
    assert refused.status_code == 422 and "Choose how sharing was agreed" in refused.text
    assert await Client.all().count() == 0
    added = await client.post("/clients/new", data={**details, "sharing_basis": "consent"})
    assert added.status_code == 303
    new = await Client.get()
    assert (new.given_name, new.family_name) == ("Mia", "O'Brien-Smith")
    assert new.other_names == "mimi McDonald"  # mixed case: as typed


async def test_legal_bases_come_with_the_deployment(client):
    """Issue 17: Victoria's schemes in Victoria, England's Children Acts only in the pilots."""
    victoria, england = legal_bases("AU-VIC").values(), legal_bases("UK-PILOTS").values()
    assert any("Child Information Sharing Scheme" in b for b in victoria)
    assert not any("Children Act 1989" in b for b in victoria)
    assert any("Children Act 1989" in b for b in england)
    priya = await priya_in_brimbank()
    await sign_in(client, priya)
    form = unescape((await client.get("/clients/new")).text)
    assert all(basis in form for basis in victoria)
    assert "Children Act 1989" not in form
    token = await csrf_token(client, "/clients/new")
    brimbank = await support.council(BRIMBANK)
    details = {
        "given_name": "Ava",
        "family_name": "Quinlan",
        "birth": "unknown",
        "area_id": str(brimbank.id),
        "sharing_basis": "legal",
        "legal_basis": "ca1989-s47",
        "confirmed": "yes",
        "csrf_token": token,
    }
    refused = await client.post("/clients/new", data=details)
    assert refused.status_code == 422 and await Client.all().count() == 0
    added = await client.post("/clients/new", data={**details, "legal_basis": "ciss"})
    assert added.status_code == 303
    assert (await Client.get()).legal_basis == "ciss"
    team = (await client.get(added.headers["location"])).text
    assert "without consent — Child Information Sharing Scheme" in unescape(team)


async def test_adding_a_client_explains_each_mistake(client):
    priya = await priya_in_brimbank()
    await sign_in(client, priya)
    token = await csrf_token(client, "/clients/new")
    response = await client.post(
        "/clients/new",
        data={
            "given_name": "",
            "family_name": "X",
            "birth": "year",
            "birth_year": "1850",
            "area_id": "999999",
            "sharing_basis": "legal",
            "legal_basis": "",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    for message in (
        "Enter the client's given name",
        "Enter a year of birth between 1900",
        "Choose the client's council area",
        "Choose the legal basis",
    ):
        assert message in unescape(response.text)
    assert await Client.all().count() == 0


async def offered_when_adding(client, **details: str) -> str:
    """Post the add-a-client form (in Brimbank, by consent): the duplicates page, or ""."""
    token = await csrf_token(client, "/clients/new")
    brimbank = await support.council(BRIMBANK)
    form = {"area_id": str(brimbank.id), "sharing_basis": "consent", "csrf_token": token}
    response = await client.post("/clients/new", data={**form, **details})
    if response.status_code == 303:
        return ""
    assert response.status_code == 200 and "Is it one of these?" in response.text
    return response.text


async def test_duplicates_come_from_the_forgiving_search_order_and_year(client):
    """Issue 17: typos ("thomsen": a letter missing and one changed), or the names the other
    way round, still find Mia Thompson, and a conflicting year of birth rules her out."""
    priya = await priya_in_brimbank()
    mia = await support.client(
        "Mia", "Thompson", area=await support.council(BRIMBANK), birth_date=date(2023, 3, 14)
    )
    await sign_in(client, priya)
    year = {"birth": "year", "birth_year": "2023"}
    for given, family in (("mia", "thomsen"), ("mia", "thompsen"), ("thompson", "mia")):
        offered = await offered_when_adding(client, given_name=given, family_name=family, **year)
        assert f"/clients/{mia.id}/join" in offered, (given, family)
    assert await Client.all().count() == 1
    added = await offered_when_adding(
        client, given_name="mia", family_name="thompsen", birth="year", birth_year="2019"
    )
    assert added == "" and await Client.all().count() == 2  # born 2019: not her, added
    searched = await AuditEvent.filter(action="client.searched", actor_id=priya.id).order_by("id")
    assert [e.detail["results"] for e in searched] == [1, 1, 1, 0]


async def test_duplicates_are_searched_by_other_names_too(client):
    """Issue 17: "Mimi" among the new client's other names finds Mimi Thompson, once, in the
    new client's area first; at most three other names are searched, and audited."""
    priya = await priya_in_brimbank()
    mimi = await support.client("Mimi", "Thompson", area=await support.council(BRIMBANK))
    elsewhere = await support.client("Mimi", "Thompson", area=await support.council(GEELONG))
    for given in ("Millie", "Lulu", "Kiki"):  # known words, so each search is sent
        await support.client(given, "Nguyen")
    await sign_in(client, priya)
    details = {"given_name": "Amelia", "family_name": "Thompson", "birth": "unknown"}
    added = await offered_when_adding(client, **details, other_names="Millie; Lulu, Kiki / Mimi")
    assert added == "" and await Client.all().count() == 6  # Mimi is the fourth: not searched
    searched = await AuditEvent.filter(action="client.searched", actor_id=priya.id).order_by("id")
    assert searched[0].detail["terms"] == (
        "Amelia Thompson; Millie Thompson; Lulu Thompson; Kiki Thompson"
    )
    offered = await offered_when_adding(client, **details, other_names="Mia-Rose; mimi / Millie")
    assert offered.count(f"/clients/{mimi.id}/join") == 1
    assert offered.index(f"/clients/{mimi.id}/join") < offered.index(
        f"/clients/{elsewhere.id}/join"
    )
