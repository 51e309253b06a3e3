"""Issue 17 in Chromium at 390 px: one search box finds a colleague by one word with a typo,
a service, and a client by two names, each in its own section, with and without JavaScript."""

from __future__ import annotations

import pytest

from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import sign_in_as, signed_in_without_javascript

pytestmark = pytest.mark.browser


async def test_one_box_finds_a_colleague_a_service_and_a_client(open_page, live_server):
    priya, aroha, _sam, mia = await support.thompson_team()
    page = await open_page(width=390, height=844)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
    await page.get_by_role("heading", name="Search", exact=True).wait_for()
    await axe(page)
    box = page.get_by_label("client, colleague or service")
    await box.press_sequentially("aroah", delay=30)  # a typo, one word
    colleagues = page.locator("#group-people")
    await colleagues.get_by_role("heading", name="Aroha Ngata").wait_for()
    await axe(page)
    assert await colleagues.get_by_role("link", name="Email Aroha Ngata").count() == 1
    assert await page.get_by_text("To find a client, type at least two names").is_visible()

    await box.fill("")
    await box.press_sequentially("brimbnak", delay=30)
    await (
        page.locator("#group-services")
        .get_by_role("heading", name="Brimbank City Council — Maternal & Child Health")
        .wait_for()
    )

    await box.fill("")
    await box.press_sequentially("mia thompson", delay=30)
    await page.locator("#group-local").get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    assert await page.locator("#group-people").count() == 0
    await box.fill("")
    await box.press_sequentially("ngata", delay=30)
    await page.get_by_role("link", name="Everyone matching in the phone book").click()
    await page.get_by_role("heading", name="Phone book").wait_for()
    await page.get_by_role("heading", name="Aroha Ngata").wait_for()
    await axe(page)


async def test_one_box_without_javascript(browser, live_server, db, smtp):
    priya, *_ = await support.thompson_team()
    context, page = await signed_in_without_javascript(browser, live_server, priya)
    await page.goto(live_server.url("/clients/search"))
    await page.get_by_label("client, colleague or service").fill("ngata")
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.locator("#group-people").get_by_role("heading", name="Aroha Ngata").wait_for()
    assert "/clients/search?q=ngata" in page.url
    await context.close()
