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


async def signed_in_without_javascript(browser, live_server, practitioner):
    """A new phone-sized (390 px) browser context with JavaScript off, signed in as
    `practitioner` on "Your clients": (context, page). Close the context when done."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto(signin_url(live_server.base_url, await create_signin_token(practitioner)))
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    return context, page


async def no_sideways_scroll(page, width: int = 320) -> None:
    scrolled = await page.evaluate("document.documentElement.scrollWidth")
    assert scrolled <= width, f"{page.url} is {scrolled}px wide at a {width}px viewport"


async def team_menu(page):
    """Open the team page's "More" menu (a <details>, so it works without JavaScript too)."""
    menu = page.locator("details.menu")
    if await menu.get_attribute("open") is None:
        await menu.locator("summary").click()
    return menu


async def from_profile_on_a_phone(page, role: str, name: str):
    """Help, administration and signing out are in the top bar from tablets up; on a phone,
    whose bottom bar has room for five, they are on Profile."""
    visible = page.get_by_role(role, name=name).locator("visible=true")
    if not await visible.count():
        main = page.get_by_role("navigation", name="Main")
        await main.get_by_role("link", name="Profile").click()
        await page.get_by_role("heading", name="Your profile").wait_for()
        await axe(page)
    return visible.first


async def sign_out(page):
    """Sign out as a practitioner would: from the top bar on a tablet, from Profile on a phone."""
    await (await from_profile_on_a_phone(page, "button", "Sign out")).click()
