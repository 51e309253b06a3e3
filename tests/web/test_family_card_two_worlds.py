"""The family's card, tested as two worlds (tests/web/test_two_worlds.py): whether or not Sam
(discreet, Westside Recovery) is on Mia's team, and whatever Sam does about the card, nobody
else can tell — not the family from their card's page or email, nor any colleague from any
page, fragment, email, push or notification."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from models.family import FamilyCard
from models.notifications import Outbox
from models.organisations import Organisation
from tests.conftest import empty_database
from tests.web.helpers import csrf_token
from tests.web.test_two_worlds import (
    World,
    assert_same,
    browsers,
    build,
    masked,
    observe,
    post,
)
from web.app import create_app
from web.core.settings import Settings

TOKEN = re.compile(r"/family/[A-Za-z0-9_\-]{43}")
#: Each share form's random attempt (web/teams/family_share.py): differs on every reading.
ATTEMPT = re.compile(r'name="attempt" value="[^"]*"')
Story = Callable[[World, Any], Awaitable[None]]


def family_pages(world: World, card_id: int) -> list[str]:
    mia = world.mia
    return [
        f"/clients/{mia}/family",
        f"/clients/{mia}/family/share",
        f"/clients/{mia}/family/{card_id}",
        f"/clients/{mia}/family/{card_id}/withdraw",
    ]


async def in_world(settings: Settings, with_sam: bool, story: Story) -> dict[str, Any]:
    """`test_two_worlds.in_world`, with the card's pages for every member and the family."""
    world = await build(with_sam)
    # Aroha works in child protection: she is asked for each card.
    await Organisation.filter(name="DFFH — Child Protection").update(
        service_type="Child Protection"
    )
    seen: dict[str, Any] = {}
    async with browsers(settings) as as_:
        priya = await as_(world.priya)
        shared = await post(
            priya,
            f"/clients/{world.mia}/family/share",
            agreed="yes",
            safe="yes",
            recipient="Jade (mother)",
            method="email",
            email="jade.family@example.com",
            days="30",
        )
        assert shared.headers["location"].endswith("?done=emailed")
        card = await FamilyCard.get()
        email = await Outbox.get(recipient="jade.family@example.com")
        found = TOKEN.search(email.body)
        assert found
        await story(world, as_)
        for person in (world.priya, world.aroha, world.tom, world.nora):
            http = await as_(person)
            for path in family_pages(world, card.id):
                for fragment in (False, True):
                    headers = {"HX-Request": "true"} if fragment else {}
                    response = await http.get(path, headers=headers)
                    key = f"{person.name} GET {path}{' (htmx)' if fragment else ''}"
                    seen[key] = (
                        response.status_code,
                        ATTEMPT.sub("", TOKEN.sub("/family/…", masked(response.text))),
                    )
        transport = httpx.ASGITransport(app=create_app(settings), client=("198.51.100.4", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as phone:
            page = await phone.get(found.group(0))
            seen["the family's card"] = (page.status_code, dict(page.headers), page.text)
            seen["the family's card"][1].pop("date", None)
            seen["the family's card"][1].pop("set-cookie", None)
        for key, value in (await observe(world, as_, settings)).items():
            seen[key] = TOKEN.sub("/family/…", repr(value))
    await empty_database()
    return seen


async def everyone_agrees(world: World, as_: Any) -> None:
    """Aroha agrees to the card; the family opens it."""
    card = await FamilyCard.get()
    await post(await as_(world.aroha), f"/clients/{world.mia}/family/{card.id}/agree")


async def test_the_card_is_the_same_whether_or_not_sam_is_on_the_team(settings):
    """Sam, discreetly on the team, reads the cards page and previews the card, and chooses
    every listing: nobody else, the family included, can tell Sam is there."""

    async def with_sam(world: World, as_: Any) -> None:
        sam = await as_(world.sam)
        card = await FamilyCard.get()
        for path in family_pages(world, card.id):
            assert (await sam.get(path)).status_code in (200, 403)
        await post(sam, f"/clients/{world.mia}/family/listing", listing="list")
        await post(sam, f"/clients/{world.mia}/family/{card.id}/agree")
        await everyone_agrees(world, as_)

    first = await in_world(settings, True, with_sam)
    second = await in_world(settings, False, everyone_agrees)
    assert_same(first, second)


async def test_a_discreet_member_trying_to_withdraw_the_card_changes_nothing_seen(settings):
    """Sam is refused withdrawing the card (a withdrawal's actor and who is told would show
    him): his trying is the same, to everyone else, as nobody trying in a world without him."""

    async def sam_tries(world: World, as_: Any) -> None:
        await everyone_agrees(world, as_)
        card = await FamilyCard.get()
        sam = await as_(world.sam)
        path = f"/clients/{world.mia}/family/{card.id}/withdraw"
        assert (await sam.get(path)).status_code == 403
        token = await csrf_token(sam, "/")
        refused = await sam.post(path, data={"unnamed": "yes", "csrf_token": token})
        assert refused.status_code == 403

    first = await in_world(settings, True, sam_tries)
    second = await in_world(settings, False, everyone_agrees)
    assert_same(first, second)
