"""The phone book: people and services, local first, and never anyone's clients."""

from __future__ import annotations

from tortoise import connections

from models.audit import AuditEvent
from tests import support
from tests.web.helpers import sign_in


async def test_people_and_services_are_found_local_area_first(client):
    priya, aroha, sam, mia = await support.thompson_team()
    wyndham = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code="LGA27260"
    )
    tom = await support.practitioner(
        "Tom Walsh", "tom.walsh@wyndham.example", wyndham, job_title="Youth Worker"
    )
    local_youth = await support.practitioner(
        "Kim Youth", "kim.youth@brimbank.example", job_title="Youth Worker"
    )
    await support.practitioner(
        "Half Signedup", "half@brimbank.example", job_title="Youth Worker", signup_step=2
    )
    await support.practitioner(
        "Gone Away", "gone@brimbank.example", job_title="Youth Worker", active=False
    )
    await sign_in(client, priya)  # Priya's areas: Brimbank (Mia's team)
    page = (await client.get("/people", params={"q": "youth"})).text
    local, elsewhere = page.split('<h2 id="group-2">')
    assert "Kim Youth" in local and "Tom Walsh" not in local
    assert "Tom Walsh" in elsewhere and "Wyndham City Council — Youth Services" in elsewhere
    assert "Half Signedup" not in page and "Gone Away" not in page
    assert f'href="/people/{tom.id}"' in page and local_youth

    by_role_and_org = (await client.get("/people", params={"q": "child protection"})).text
    assert "Aroha Ngata" in by_role_and_org


async def test_a_practitioner_page_is_contact_details_only(client):
    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, aroha)
    page = (await client.get(f"/people/{priya.id}")).text
    assert 'href="tel:0355501234"' in page and f'href="mailto:{priya.email}"' in page
    assert "Mia" not in page and "Thompson" not in page
    half = await support.practitioner("Half", "half@brimbank.example", signup_step=1)
    assert (await client.get(f"/people/{half.id}")).status_code == 404


async def test_an_organisation_page_lists_its_people_and_duty_contacts(client):
    priya, aroha, sam, mia = await support.thompson_team()
    brimbank = await support.organisation()
    brimbank.duty_phone, brimbank.duty_email = "03 9249 4000", "mch@brimbank.example"
    await brimbank.save()
    await sign_in(client, aroha)
    page = (await client.get(f"/organisations/{brimbank.id}")).text
    assert 'href="tel:0392494000"' in page and "mailto:mch@brimbank.example" in page
    assert "Priya Nair" in page and "Mia" not in page


async def test_the_phone_book_forgives_typos_and_accents_exact_matches_first(client):
    """Issue 17: "aroah" finds Aroha, "brimbnak" the Brimbank services, "zoe" finds Zoë; a
    typo match comes after the exact ones; every search is audited."""
    priya, aroha, _sam, _mia = await support.thompson_team()
    zoe = await support.practitioner("Zoë Papadopoulos", "zoe@brimbank.example", job_title="GP")
    await sign_in(client, priya)
    assert "Aroha Ngata" in (await client.get("/people", params={"q": "aroah"})).text
    assert "Aroha Ngata" in (await client.get("/people", params={"q": "ngataa"})).text
    services = (await client.get("/people", params={"q": "brimbnak"})).text
    assert "Brimbank City Council — Maternal &amp; Child Health" in services
    assert zoe.name in (await client.get("/people", params={"q": "zoe"})).text
    assert zoe.name in (await client.get("/people", params={"q": "papadopolous"})).text
    # A new colleague is findable by a typo at once (the directory's version moved).
    await support.practitioner("Aroah Smith", "aroah@brimbank.example", job_title="Nurse")
    both = (await client.get("/people", params={"q": "aroah"})).text
    assert both.index("Aroah Smith") < both.index("Aroha Ngata")  # exact first
    assert "Nobody found" in (await client.get("/people", params={"q": "qqxz"})).text
    searched = await AuditEvent.filter(action="directory.searched").order_by("id")
    assert [e.detail["terms"] for e in searched][:2] == ["aroah", "ngataa"]
    assert searched[0].actor_id == priya.id and searched[0].detail["people"] == 1


async def test_nobody_unlisted_shapes_a_result(client):
    """Someone mid-signup is not in the phone book, nor in the words its typos are forgiven
    against: "arsaz" must not become "arsam" (and so find Kim Warsame) because of them."""
    priya, *_ = await support.thompson_team()
    await support.practitioner("Kim Warsame", "kim@brimbank.example", job_title="Nurse")
    await sign_in(client, priya)
    assert "Kim Warsame" not in (await client.get("/people", params={"q": "arsaz"})).text
    # Adding Arsam moves the directory's version: the words are read afresh, without them.
    await support.practitioner("Arsam Probe", "probe@brimbank.example", signup_step=1)
    assert "Kim Warsame" not in (await client.get("/people", params={"q": "arsaz"})).text
    assert "Kim Warsame" in (await client.get("/people", params={"q": "warsam"})).text


async def test_an_organisation_changed_by_any_process_is_found_at_once(client):
    """Each process keeps the organisations in memory, stamped with a version triggers move on
    any write (here plain SQL, as another process or an administrator's bulk edit would send):
    the next search sees the change."""
    priya = await support.practitioner()
    await support.organisation("Sunshine Family Centre", "sunshine.example")
    await sign_in(client, priya)
    assert "Sunshine Family Centre" in (await client.get("/people?q=sunshine")).text
    connection = connections.get("default")
    await connection.execute_query(
        "UPDATE organisation SET name = 'Ardeer Family Centre' "
        "WHERE name = 'Sunshine Family Centre'"
    )
    assert "Family Centre" not in (await client.get("/people?q=sunshine")).text
    assert "Ardeer Family Centre" in (await client.get("/clients/search?q=ardeer")).text
    await connection.execute_query(
        "DELETE FROM organisation_domain WHERE domain = 'sunshine.example'"
    )
    await connection.execute_query("DELETE FROM organisation WHERE name = 'Ardeer Family Centre'")
    assert "Ardeer Family Centre" not in (await client.get("/people?q=family")).text


async def test_a_colleague_changed_by_any_process_is_found_at_once(client):
    """Each process keeps the listed colleagues in memory (web/core/colleagues.py), stamped
    with the directory's version: triggers move it when a practitioner's name, job title,
    organisation, `active` or signup step changes however it is written (here plain SQL, as
    another process would), and only then."""
    priya = await support.practitioner()
    kim = await support.practitioner("Kim Warsame", "kim@brimbank.example", job_title="Nurse")
    await sign_in(client, priya)
    assert "Kim Warsame" in (await client.get("/people", params={"q": "warsame"})).text
    connection = connections.get("default")

    async def version() -> int:
        rows = await connection.execute_query_dict("SELECT version FROM directory_version")
        return int(rows[0]["version"])

    before = await version()
    await connection.execute_query(
        f"UPDATE practitioner SET phone = '03 9000 0000', last_seen_at = NULL WHERE id = {kim.id}"
    )
    assert await version() == before  # nothing the directory searches changed
    await connection.execute_query(
        f"UPDATE practitioner SET name = 'Kim Hassan', job_title = 'Midwife' WHERE id = {kim.id}"
    )
    assert await version() > before
    found = (await client.get("/people", params={"q": "hassan"})).text
    assert "Kim Hassan" in found and "Midwife" in found
    assert "Kim" not in (await client.get("/people", params={"q": "warsame"})).text
    assert "Kim Hassan" in (await client.get("/people", params={"q": "hasan"})).text  # a typo
    await connection.execute_query(f"UPDATE practitioner SET active = false WHERE id = {kim.id}")
    assert "Kim Hassan" not in (await client.get("/people", params={"q": "hassan"})).text
    assert "Kim Hassan" not in (await client.get("/clients/search?q=hassan")).text


async def test_colleagues_read_after_the_organisations_kept_are_still_found(db):
    """A request that read the directory's version before an organisation and a colleague in
    it were added: the organisations kept at that version lack it, the colleagues read now do
    not; the colleague is found, with their organisation, and nothing fails."""
    from web.core import colleagues, directory, services

    await support.practitioner()
    rows = await connections.get("default").execute_query_dict(
        "SELECT version FROM directory_version WHERE id = 1"
    )
    version = int(rows[0]["version"])
    await services.organisations(version)
    colleagues._kept.clear()
    org = await support.organisation("Brand New Centre", "brandnew.example")
    await support.practitioner("Nina New", "nina@brandnew.example", org)
    found = await directory.find(["nina"], [], version)
    assert [p.name for p in found.elsewhere.people] == ["Nina New"]
