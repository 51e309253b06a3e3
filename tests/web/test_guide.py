"""The walkthrough and the help banners: skippable, replayable, remembered per person."""

from __future__ import annotations

from models.practitioners import Practitioner
from tests import support
from tests.web.helpers import csrf_token, sign_in


async def test_the_walkthrough_steps_through_is_skipped_and_replayed(client):
    priya = await support.practitioner()
    await sign_in(client, priya)
    home = (await client.get("/")).text
    assert "Getting started · 1 of 4" in home and "Find a client" in home
    step = await client.get("/?tour=2", headers={"HX-Request": "true"})
    assert "Getting started · 2 of 4" in step.text and "<html" not in step.text
    assert "See the team" in step.text
    last = (await client.get("/?tour=4")).text
    assert "Finish" in last and "Next</a>" not in last

    token = await csrf_token(client, "/")
    await client.post("/help/walkthrough/done", data={"csrf_token": token})
    assert "Getting started" not in (await client.get("/")).text
    assert (await Practitioner.get(id=priya.id)).walkthrough_done

    replay = await client.post("/help/walkthrough/replay", data={"csrf_token": token})
    assert replay.headers["location"] == "/?tour=1"
    assert "Getting started · 1 of 4" in (await client.get("/?tour=1")).text


async def test_a_dismissed_banner_stays_dismissed_for_that_person_only(client):
    priya = await support.practitioner()
    aroha = await support.practitioner("Aroha Ngata", "aroha.ngata@brimbank.example")
    await sign_in(client, priya)
    page = (await client.get("/clients/search")).text
    assert 'id="help-search"' in page
    token = await csrf_token(client, "/clients/search")
    gone = await client.post(
        "/help/banners/search", data={"csrf_token": token}, headers={"HX-Request": "true"}
    )
    assert gone.status_code == 200 and gone.text == ""
    assert 'id="help-search"' not in (await client.get("/clients/search")).text
    assert 'id="help-phonebook"' in (await client.get("/people")).text

    no_js = await client.post(
        "/help/banners/phonebook", data={"csrf_token": token, "next": "/people"}
    )
    assert no_js.status_code == 303 and no_js.headers["location"] == "/people"
    await client.post("/help/banners/nonsense", data={"csrf_token": token})
    assert (await Practitioner.get(id=priya.id)).dismissed_banners == ["search", "phonebook"]

    await sign_in(client, aroha)
    assert 'id="help-search"' in (await client.get("/clients/search")).text
