"""Your clients on a 390 px phone, most urgent first, sorted and filtered without JavaScript;
search headings that stay one line for a practitioner in 45 areas; turning automatic areas
off in the profile (issue 16)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.areas import Area
from models.attentions import Attention
from models.practitioners import Practitioner
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as
from web.core import clock

pytestmark = pytest.mark.browser


async def priyas_clients() -> Practitioner:
    priya = await support.practitioner(walkthrough_done=True)
    long_ago = clock.now() - timedelta(days=200)
    for given in ("Ava", "Ben", "Cleo", "Dan"):
        client = await support.client(given, "Walker")
        await support.member(client, priya, started_at=long_ago)
        if given == "Dan":
            for text in ("Missed two appointments", "Please call me"):
                await Attention.create(client=client, raised_by=priya, text=text)
    return priya


#: How many lines an element's text takes: the distinct tops of its text's boxes.
LINES = """element => {
    const range = document.createRange();
    range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
}"""


async def lines_of(locator) -> int:
    return int(await locator.evaluate(LINES))


async def card_titles(page) -> list[str]:
    return await page.locator("#client-cards .card-title").all_inner_texts()


async def test_the_most_urgent_client_is_first_and_the_sorts_work_without_javascript(
    open_page, live_server
):
    priya = await priyas_clients()
    page = await open_page(width=390, height=844)
    await page.route("**/*.js*", lambda route: route.abort())
    await sign_in_as(page, live_server, priya)
    await no_sideways_scroll(page, 390)
    assert (await card_titles(page))[0] == "Dan Walker"
    first = page.locator("#client-cards .client-card").first
    reason = first.get_by_role("link", name="2 open attentions")
    assert await reason.is_visible()
    box = await reason.bounding_box()
    assert box and box["height"] >= 44 and box["y"] + box["height"] <= 844  # above the fold

    order = page.get_by_role("navigation", name="Sort and filter your clients")
    current = order.locator('[aria-current="true"]')
    assert await current.all_inner_texts() == ["Urgent", "All"]
    for link in await order.get_by_role("link").all():
        size = await link.bounding_box()
        assert size and size["height"] >= 44 and size["width"] >= 44

    await order.get_by_role("link", name="Name").click()
    await page.wait_for_url("**/?sort=name")
    await axe(page)
    assert await card_titles(page) == ["Ava Walker", "Ben Walker", "Cleo Walker", "Dan Walker"]
    assert await current.all_inner_texts() == ["Name", "All"]

    await order.get_by_role("link", name="Open attentions").click()
    await page.wait_for_url("**/?sort=name&show=attentions")
    await axe(page)
    assert await card_titles(page) == ["Dan Walker"]
    await page.get_by_text("1 of your 4 clients has open attentions.").wait_for()

    await page.goto(live_server.url("/?sort=sideways&show=nobody"))
    await axe(page)
    assert (await card_titles(page))[0] == "Dan Walker"
    assert await current.all_inner_texts() == ["Urgent", "All"]


async def test_45_areas_make_one_line_headings_and_the_profile_can_turn_them_off(
    open_page, live_server
):
    aroha = await support.practitioner(
        "Aroha Ngata",
        "aroha.ngata@dffh.example",
        job_title="Child Protection Practitioner",
        walkthrough_done=True,
    )
    councils = await Area.filter(kind="council").order_by("code").limit(45)
    for n, area in enumerate(councils):
        await support.member(await support.client("Ruby", f"Client{n}", area=area), aroha)
    page = await open_page(width=390, height=844)
    await sign_in_as(page, live_server, aroha)
    await page.goto(live_server.url("/clients/search?q=zz+qq"))
    await axe(page)
    await no_sideways_scroll(page, 390)
    local = page.get_by_role("heading", name="In your 45 areas")
    await local.wait_for()
    for heading in await page.locator(".result-group > h2").all():
        assert await lines_of(heading) == 1, await heading.inner_text()
    assert await lines_of(page.get_by_text("No one found in your 45 areas.")) == 1
    which = page.locator("#group-local details.area-list")
    assert await which.get_attribute("open") is None
    await which.locator("summary").click()
    await page.get_by_text(councils[0].name + ", ").first.wait_for()
    await axe(page)

    await page.goto(live_server.url("/profile"))
    await axe(page)
    box = page.get_by_label("Also search first in the areas of clients whose teams I am on")
    assert await box.is_checked()
    await box.uncheck()
    await page.get_by_role("button", name="Save this choice").click()
    await page.get_by_text("Search looks first only in the areas you chose.").wait_for()
    await axe(page)
    assert not await box.is_checked()
    assert (await Practitioner.get(id=aroha.id)).automatic_areas is False

    await page.goto(live_server.url("/clients/search?q=zz+qq"))
    await axe(page)
    # Nothing chosen and nothing added: search starts at her organisation's council.
    await page.get_by_role("heading", name="In your areas", exact=True).wait_for()
    await page.get_by_text("No one found in Brimbank.").wait_for()
