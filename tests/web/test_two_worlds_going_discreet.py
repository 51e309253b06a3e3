"""Going discreet again, after being seen, reads exactly as leaving (the two worlds of
tests/web/test_two_worlds.py): the team keeps what it was shown, and learns nothing more."""

from __future__ import annotations

import pytest

from tests.web.test_two_worlds import Signed, World, assert_same, in_world, post, visible_story


@pytest.mark.parametrize("afterwards", [False, True])
async def test_going_discreet_again_reads_as_leaving(settings, afterwards):
    """Sam, discreet on Mia's team, lets the team see him (a named "joined" alert, his card, a
    line in History). Then, in one world, he becomes discreet again and goes on working with
    Mia discreetly; in the other he leaves the team. Every other practitioner's pages, fragments,
    emails, push and notifications are the same in both."""

    async def seen_then(world: World, as_: Signed) -> None:
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/visibility", discreet="no", confirmed="yes")
        await visible_story(world, as_)

    async def goes_discreet(world: World, as_: Signed) -> None:
        await seen_then(world, as_)
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/visibility", discreet="yes", confirmed="yes")
        if afterwards:  # what a discreet member does is never seen
            await post(sam, f"/clients/{world.mia}/contact")
            await post(sam, f"/clients/{world.mia}/checkin")
            assert (await sam.get(f"/clients/{world.mia}/attentions")).status_code == 200

    async def leaves(world: World, as_: Signed) -> None:
        await seen_then(world, as_)
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/leave", reason="other")

    first = await in_world(settings, True, goes_discreet)
    second = await in_world(settings, True, leaves)
    assert_same(first, second)


async def test_a_lead_going_discreet_reads_as_the_lead_leaving(settings):
    """Sam, seen by the team, is agreed on as lead professional. Going discreet again must read
    exactly as the lead leaving: the label goes, History says the team has no lead, and the
    one alert the lead's departure sends goes out; nothing tells the two apart."""

    async def lead_then(world: World, as_: Signed) -> None:
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/visibility", discreet="no", confirmed="yes")
        await visible_story(world, as_)  # Aroha is named lead there: then Sam is agreed on
        priya = await as_(world.priya)
        await post(priya, f"/clients/{world.mia}/lead", member=str(world.sam.id))

    async def goes_discreet(world: World, as_: Signed) -> None:
        await lead_then(world, as_)
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/visibility", discreet="yes", confirmed="yes")

    async def leaves(world: World, as_: Signed) -> None:
        await lead_then(world, as_)
        sam = await as_(world.sam)
        await post(sam, f"/clients/{world.mia}/leave", reason="other")

    first = await in_world(settings, True, goes_discreet)
    second = await in_world(settings, True, leaves)
    history = [seen for key, seen in first.items() if key.startswith("Priya Nair GET /clients/")
               and key.endswith("/history")]  # fmt: skip
    assert any(
        "is no longer the lead professional: the team has none" in text for _status, text in history
    )
    assert_same(first, second)
