"""Works at 320 px wide and with a keyboard alone."""

from __future__ import annotations

import pytest

from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll
from web.core.signins import create_signin_token, signin_url

pytestmark = pytest.mark.browser


async def test_pages_fit_a_320px_phone_and_the_skip_link_works(page, live_server):
    priya = await support.practitioner()
    for n in range(3):
        client = await support.client(f"Anastasia-Konstantina{n}", "Papadopoulos-Nikolaidis")
        await support.member(client, priya)
    await page.set_viewport_size({"width": 320, "height": 640})

    await page.goto(live_server.url("/signin"))
    await axe(page)
    await no_sideways_scroll(page)

    await page.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await axe(page)
    await page.keyboard.press("Tab")  # the first stop is the skip link
    skip = page.get_by_role("link", name="Skip to main content")
    assert await skip.evaluate("el => el === document.activeElement")
    assert await skip.is_visible()
    # Keyboard only: tab to the button and press Enter.
    button = page.get_by_role("button", name="Sign in to Patchwork")
    for _ in range(10):
        if await button.evaluate("el => el === document.activeElement"):
            break
        await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    await no_sideways_scroll(page)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")  # follow the skip link
    assert await page.evaluate("document.activeElement.id") == "main-content"

    await page.get_by_role("link", name="Anastasia-Konstantina0 Papadopoulos-Nikolaidis").click()
    await page.get_by_role("heading", name="Team").wait_for()
    await axe(page)
    await no_sideways_scroll(page)
