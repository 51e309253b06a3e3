"""Issue 17: one search box finds the client, colleague or service you're looking for, each in
its own section, your areas first; colleagues and services forgive typos, need one word and
spend nothing of the hourly client-search limit."""

from __future__ import annotations

from models.audit import AuditEvent
from models.auth import RateLimitHit
from tests import support
from tests.web.helpers import sign_in

WYNDHAM = "LGA27260"


def section(html: str, name: str) -> str:
    return html.split(f'id="group-{name}"')[1].split("</section>")[0]


async def test_one_word_finds_colleagues_and_services_but_no_client(client, settings):
    priya, aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    for typed in ("aroha", "aroah"):
        html = (await client.get("/clients/search", params={"q": typed})).text
        assert "Aroha Ngata" in section(html, "people")
        assert "To find a client, type at least two names" in html
        assert f"/clients/{mia.id}" not in html and 'id="group-local"' not in html
    services = section(
        (await client.get("/clients/search", params={"q": "brimbnak"})).text, "services"
    )
    assert "Brimbank City Council — Maternal &amp; Child Health" in services
    assert await RateLimitHit.all().count() == 0  # one word is not a client search
    terms = [
        e.detail["terms"]
        for e in await AuditEvent.filter(action="directory.searched").order_by("id")
    ]
    assert terms == ["aroha", "aroah", "brimbnak"]


async def test_two_names_find_the_client_and_the_colleagues_beneath(client):
    priya, aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    html = (await client.get("/clients/search", params={"q": "mia thompson"})).text
    assert f"/clients/{mia.id}" in section(html, "local")
    assert 'id="group-people"' not in html and "No colleagues" not in html  # no noise
    colleague = (await client.get("/clients/search", params={"q": "aroha ngata"})).text
    assert colleague.index('id="group-local"') < colleague.index('id="group-people"')
    assert await AuditEvent.filter(action="client.searched").count() == 2
    assert await AuditEvent.filter(action="directory.searched").count() == 2
    # Asking for one more client group brings no colleagues again.
    group = await client.get(
        "/clients/search",
        params={"q": "mia thompson", "scope": "state"},
        headers={"HX-Request": "true"},
    )
    assert 'id="group-people"' not in group.text
    assert await AuditEvent.filter(action="directory.searched").count() == 2
    nothing = (await client.get("/clients/search", params={"q": "qqzx"})).text
    assert "No colleagues or services found." in nothing


async def test_colleagues_in_your_areas_come_first(client):
    priya, *_ = await support.thompson_team()
    wyndham = await support.organisation(
        "Wyndham City Council — Youth Services", "wyndham.example", area_code=WYNDHAM
    )
    await support.practitioner("Ann Able", "ann@wyndham.example", wyndham, job_title="Youth Worker")
    await support.practitioner("Zed Local", "zed@brimbank.example", job_title="Youth Worker")
    await sign_in(client, priya)  # Priya's areas: Brimbank
    people = section((await client.get("/clients/search", params={"q": "youth"})).text, "people")
    assert people.index("Zed Local") < people.index("Ann Able")
    assert "outside your areas" in people.split("Ann Able")[1]
    assert "outside your areas" not in people.split("Zed Local")[1].split("Ann Able")[0]
    assert 'href="/people?q=youth"' in (await client.get("/clients/search?q=youth")).text
