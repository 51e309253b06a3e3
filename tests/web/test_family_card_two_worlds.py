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
                        TOKEN.sub("/family/…", masked(response.text)),
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


async def test_a_discreet_members_withdrawal_reads_like_an_unnamed_one(settings):
    """Sam withdrawing the card reads exactly as Aroha withdrawing it without her name."""

    def withdrawn_by(who: str, **form: str) -> Story:
        async def story(world: World, as_: Any) -> None:
            await everyone_agrees(world, as_)
            card = await FamilyCard.get()
            actor = await as_(getattr(world, who))
            await post(actor, f"/clients/{world.mia}/family/{card.id}/withdraw", **form)

        return story

    first = await in_world(settings, True, withdrawn_by("sam"))
    second = await in_world(settings, True, withdrawn_by("aroha", unnamed="yes"))
    # Aroha sees her own withdrawal as hers: compare what everyone else observes.
    for seen in (first, second):
        for key in [k for k in seen if k.startswith("Aroha") or "aroha" in k.lower()]:
            del seen[key]
    assert_same(first, second)
