"""Removing a circle link asks first, on a page of its own that needs no JavaScript, and
nothing on that page or the picture tells anyone else that a discreet member is there."""

from __future__ import annotations

import re

from models.audit import AuditEvent
from models.circles import CircleLink
from models.notifications import Notification
from tests import support
from tests.conftest import empty_database
from tests.web.helpers import csrf_token, sign_in
from tests.web.test_two_worlds import (
    Signed,
    World,
    assert_same,
    browsers,
    build,
    masked,
    post,
)


async def linked(client):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await sign_in(client, priya)
    path = f"/clients/{mia.id}/circle"
    token = await csrf_token(client, path)
    await client.post(
        path, data={"csrf_token": token, "other": str(leo.id), "relationship": "sibling"}
    )
    return priya, aroha, sam, tom, mia, leo, await CircleLink.get()


async def test_remove_link_leads_to_a_confirmation_that_removes_nothing_itself(client):
    priya, aroha, sam, tom, mia, leo, link = await linked(client)
    await sign_in(client, tom)
    circle = (await client.get(f"/clients/{leo.id}/circle")).text
    confirm_path = f"/clients/{leo.id}/circle/{link.id}/remove"
    assert f'href="{confirm_path}"' in circle  # a link now, not a form that posts at once
    assert f'action="{confirm_path}"' not in circle

    page = await client.get(confirm_path)
    assert page.status_code == 200
    assert "Remove the link between Leo Thompson and Mia Thompson?" in page.text
    assert "Both teams will be told." in page.text
    form = re.search(rf'<form method="post" action="{confirm_path}".*?</form>', page.text, re.S)
    assert form and 'name="csrf_token"' in form.group(0)
    assert re.search(r'<button type="submit" class="button warning">Remove link</button>', form[0])
    assert f'<a class="button secondary" href="/clients/{leo.id}/circle">Cancel</a>' in form[0]
    assert await CircleLink.all().count() == 1  # asking removed nothing, told nobody
    assert not await Notification.filter(kind="circle_unlinked").exists()
    assert await AuditEvent.filter(action="team.viewed", actor_id=tom.id, client_id=leo.id).exists()

    # The fragment too, for htmx.
    fragment = await client.get(confirm_path, headers={"HX-Request": "true"})
    assert "Remove the link between" in fragment.text and "<html" not in fragment.text

    # Confirming is the POST it always was: CSRF-checked, then both teams are told.
    refused = await client.post(confirm_path, data={})
    assert refused.status_code == 403 and await CircleLink.all().count() == 1
    token = await csrf_token(client, confirm_path)
    done = await client.post(confirm_path, data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=unlinked")
    assert await CircleLink.all().count() == 0
    assert await Notification.filter(kind="circle_unlinked", practitioner_id=priya.id).exists()
    # A link that is gone (or never was) sends the confirmation back to the circle.
    gone = await client.get(confirm_path)
    assert gone.status_code == 303 and gone.headers["location"] == f"/clients/{leo.id}/circle"


async def test_only_a_member_may_ask_and_only_about_a_link_of_that_client(client):
    priya, aroha, sam, tom, mia, leo, link = await linked(client)
    jade = await support.client("Jade")
    await support.member(jade, tom)
    await sign_in(client, tom)
    # Tom is not on Mia's team: the members-only refusal, nothing about the link.
    refused = await client.get(f"/clients/{mia.id}/circle/{link.id}/remove")
    assert refused.status_code == 403
    assert "Join this team" in refused.text and "Leo" not in refused.text
    # Jade's team cannot reach Mia and Leo's link through Jade's circle.
    elsewhere = await client.get(f"/clients/{jade.id}/circle/{link.id}/remove")
    assert elsewhere.status_code == 303 and "Mia" not in elsewhere.text
    assert await AuditEvent.filter(action="team.refused", actor_id=tom.id).exists()


async def test_a_discreet_member_is_reminded_that_both_teams_are_told(client):
    priya, aroha, sam, tom, mia, leo, link = await linked(client)
    await sign_in(client, sam)
    page = (await client.get(f"/clients/{mia.id}/circle/{link.id}/remove")).text
    assert "You are on this team discreetly." in page
    await sign_in(client, priya)
    page = (await client.get(f"/clients/{mia.id}/circle/{link.id}/remove")).text
    assert "discreetly" not in page


def circle_pages(world: World, link_id: int) -> list[str]:
    mia, leo = world.mia, world.leo
    return [
        f"/clients/{mia}/circle",
        f"/clients/{leo}/circle",
        f"/clients/{mia}/circle/{link_id}/remove",
        f"/clients/{leo}/circle/{link_id}/remove",
    ]


async def circle_world(settings, with_sam: bool) -> dict[str, tuple[int, str]]:
    """Mia and Leo linked, with or without Sam discreetly on both teams; every page of the
    circle (picture, cards, confirmation), page and fragment, as everyone but Sam sees it."""
    world = await build(with_sam)
    seen: dict[str, tuple[int, str]] = {}
    async with browsers(settings) as as_:
        await post(
            await as_(world.priya),
            f"/clients/{world.mia}/circle",
            other=str(world.leo),
            relationship="sibling",
        )
        link = await CircleLink.get()
        if with_sam:  # Sam looks at everything, asks to remove the link and thinks better of it
            sam = await as_(world.sam)
            for path in circle_pages(world, link.id):
                assert (await sam.get(path)).status_code == 200
        await observe_circle(world, as_, link.id, seen)
    await empty_database()
    return seen


async def observe_circle(
    world: World, as_: Signed, link_id: int, seen: dict[str, tuple[int, str]]
) -> None:
    for person in (world.priya, world.aroha, world.tom, world.nora):
        http = await as_(person)
        for path in circle_pages(world, link_id):
            for headers in ({}, {"HX-Request": "true"}):
                response = await http.get(path, headers=headers)
                text = re.sub(r"/circle/\d+/remove", "/circle/N/remove", response.text)
                seen[f"{person.name} GET {path} {headers}"] = (response.status_code, masked(text))


async def test_two_worlds_see_the_same_picture_cards_and_confirmation(settings):
    first = await circle_world(settings, True)
    second = await circle_world(settings, False)
    assert_same(first, second)
    # The worlds really showed the picture and the question (not only refusals).
    priya_circle = first[next(k for k in first if k.startswith("Priya") and "circle {}" in k)]
    assert '<a href="#p-' in priya_circle[1]
    assert any("Remove the link between" in text for _status, text in first.values())
