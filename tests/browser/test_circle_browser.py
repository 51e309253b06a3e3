"""The Circle tab in Chromium at 320 px: link a sibling, see the picture and the other team."""

from __future__ import annotations

import pytest

from models.circles import CircleLink, ordered_pair
from models.notifications import Notification
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as

pytestmark = pytest.mark.browser


async def test_linking_a_sibling_shows_their_team_and_a_described_picture(
    page, live_server, tmp_path
):
    priya, _aroha, _sam, _tom, mia, leo = await support.thompson_siblings()

    await page.set_viewport_size({"width": 320, "height": 800})
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    await page.get_by_role("link", name="Circle").click()
    await page.get_by_role("heading", name="Add to this circle").wait_for()
    await axe(page)
    await page.get_by_label("Which of your clients?").select_option(label="Leo Thompson")
    await page.get_by_label("They are Mia’s…").select_option(label="Sibling")
    await page.get_by_role("button", name="Add to the circle").click()
    await page.get_by_text("The link is added and both teams have been told.").wait_for()
    await axe(page)
    await no_sideways_scroll(page)
    [link] = await CircleLink.all()
    assert ordered_pair(mia.id, leo.id, "sibling") == (
        link.client_a_id,
        link.client_b_id,
        link.relationship,
    )
    assert link.created_by_id == priya.id
    told = {n.practitioner_id for n in await Notification.filter(kind="circle_linked")}
    assert priya.id not in told and len(told) == 3  # Aroha, Sam and Tom

    picture = page.get_by_role("img", name="Mia Thompson's circle")
    description = await page.locator("#picture-desc").text_content()
    assert "Leo Thompson (sibling) with 2 practitioners" in description
    assert await picture.is_visible()
    shot = tmp_path / "circle.png"  # for a person to look at when it fails
    await page.screenshot(path=shot, full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    card = page.locator(".circle-card", has_text="Leo Thompson")
    assert await card.get_by_text("Tom Walker").is_visible()
    await card.get_by_role("link", name="View team").click()
    await page.get_by_role("heading", name="Leo Thompson").wait_for()
    await axe(page)
