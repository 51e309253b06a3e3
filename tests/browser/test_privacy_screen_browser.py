"""The privacy screen on a 390 px phone: turned on from Profile, names show as initials until
"Show names" is ticked, a new page hides them again; the same without JavaScript, and nothing
kept on the device (issue 17)."""

from __future__ import annotations

import pytest

from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, signed_in_without_javascript
from tests.browser.test_pwa_browser import DEVICE_STORAGE

pytestmark = pytest.mark.browser


async def turn_on_from_profile(page) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    await page.get_by_role("heading", name="Privacy screen").wait_for()
    await page.get_by_role("button", name="Turn on the privacy screen").click()
    await page.get_by_text("Privacy screen on:").wait_for()


async def names_shown(page, name: str, initials: str) -> bool:
    """Whether `name` shows (and not its initials), or its initials (and not the name)."""
    full = await page.get_by_text(name, exact=True).first.is_visible()
    short = await page.get_by_text(initials, exact=True).first.is_visible()
    assert full != short, f"{name!r} and {initials!r} are both {'shown' if full else 'hidden'}"
    return full


async def test_names_show_as_initials_until_show_names_and_again_on_the_next_page(
    open_page, live_server
):
    priya, _aroha, _sam, mia = await support.thompson_team()
    priya.walkthrough_done = True
    await priya.save(update_fields=["walkthrough_done"])
    page = await open_page()
    await sign_in_as(page, live_server, priya)
    assert await names_shown(page, "Mia Thompson", "M. T.")

    await turn_on_from_profile(page)
    await axe(page)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Clients").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    assert not await names_shown(page, "Mia Thompson", "M. T.")
    assert await page.get_by_role("link", name="M. T.").is_visible()
    bar = await page.locator(".privacy-bar").bounding_box()
    assert bar is not None and bar["height"] <= 100  # two lines at most: the cards stay in view
    await no_sideways_scroll(page, 390)
    await axe(page)

    await page.locator("label[for=show-names]").click()
    assert await page.get_by_label("Show names").is_checked()
    assert await names_shown(page, "Mia Thompson", "M. T.")
    await axe(page)

    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_role("heading", name="M. T.").wait_for()
    assert not await names_shown(page, "Mia Thompson", "M. T.")
    assert not await page.get_by_label("Show names").is_checked()
    await axe(page)

    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15000)
    kept = await page.evaluate(DEVICE_STORAGE)
    for personal in ("Mia", "Thompson", "Mimi", "M. T."):
        assert personal not in kept, f"{personal!r} is kept on the device"

    await page.get_by_role("button", name="Turn off the privacy screen").click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    assert not await page.locator(".privacy-bar").count()
    await axe(page)


async def test_the_privacy_screen_works_without_javascript(browser, live_server, db, smtp):
    priya, _aroha, _sam, _mia = await support.thompson_team()
    context, page = await signed_in_without_javascript(browser, live_server, priya)
    await turn_on_from_profile(page)
    await page.goto(live_server.url("/"))
    assert not await names_shown(page, "Mia Thompson", "M. T.")
    await page.get_by_text("Show names").click()
    assert await names_shown(page, "Mia Thompson", "M. T.")
    await page.get_by_role("button", name="Turn off the privacy screen").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    assert not await page.locator(".privacy-bar").count()
    assert await names_shown(page, "Mia Thompson", "M. T.")
    await context.close()
