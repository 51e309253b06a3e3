"""Steps the browser tests share."""

from __future__ import annotations

from tests.browser.axe import axe
from web.core.signins import create_signin_token, signin_url


async def sign_in_as(page, live_server, practitioner):
    """Through a real one-time sign-in link, as a practitioner would from their email."""
    await page.goto(signin_url(live_server.base_url, await create_signin_token(practitioner)))
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)


async def no_sideways_scroll(page, width: int = 320) -> None:
    scrolled = await page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{page.url} is {scrolled}px wide at a {width}px viewport"
