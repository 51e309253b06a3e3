"""Adding a client, right (issue 17): the council is a type-ahead with your own areas first,
and a plain select, your areas first, without JavaScript."""

from __future__ import annotations

import pytest

from models.clients import Client
from models.practitioners import PractitionerArea
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, signed_in_without_javascript

pytestmark = pytest.mark.browser

MELTON, BRIMBANK = "LGA24650", "LGA21180"


async def priya_in_melton_and_brimbank():
    """Priya works in Melton first, then Brimbank: the form starts on Melton."""
    priya = await support.practitioner()
    for position, code in enumerate((MELTON, BRIMBANK)):
        await PractitionerArea.create(
            practitioner=priya, area=await support.council(code), position=position
        )
    return priya


async def fill_the_rest(page) -> None:
    await page.get_by_label("Given name").fill("Ava")
    await page.get_by_label("Family name").fill("Quinlan")
    await page.get_by_label("I know the year only").check()
    await page.get_by_label("Year of birth").fill("2016")
    await page.get_by_label("The client (or their parent or guardian) gave consent").check()


async def test_choosing_the_council_by_typing_with_the_keyboard(page, live_server):
    priya = await priya_in_melton_and_brimbank()
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url("/clients/new"))
    await page.get_by_role("heading", name="Add a new client").wait_for()
    await axe(page)

    council = page.get_by_role("combobox", name="Council area")
    assert await council.input_value() == "Melton"  # your first area, already chosen
    assert await council.get_attribute("aria-expanded") == "false"
    assert await page.locator('select[name="area_id"]').is_hidden()
    await council.focus()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("brim", delay=30)
    listbox = page.get_by_role("listbox", name="Council area")
    await listbox.wait_for()
    assert await council.get_attribute("aria-expanded") == "true"
    assert await listbox.get_by_role("option").locator("visible=true").all_inner_texts() == [
        "Brimbank"
    ]
    await page.get_by_role("status").filter(has_text="1 council matches").wait_for()
    await axe(page)  # with the list open

    await page.keyboard.press("ArrowDown")
    brimbank = listbox.get_by_role("option", name="Brimbank")
    assert await brimbank.get_attribute("aria-selected") == "true"
    assert await council.get_attribute("aria-activedescendant") == await brimbank.get_attribute(
        "id"
    )
    await page.keyboard.press("Enter")
    assert await listbox.is_hidden() and await council.input_value() == "Brimbank"

    await fill_the_rest(page)
    await page.get_by_role("button", name="Add client").click()
    await page.get_by_role("heading", name="Ava Quinlan").wait_for()
    await axe(page)
    client = await Client.get(family_name="Quinlan").select_related("area")
    assert client.area.name == "Brimbank"


async def test_the_list_puts_your_areas_first_and_escape_clears(page, live_server):
    priya = await priya_in_melton_and_brimbank()
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url("/clients/new"))
    await axe(page)
    council = page.get_by_role("combobox", name="Council area")
    await council.click()  # a tap opens the whole list, as a select would
    listbox = page.get_by_role("listbox", name="Council area")
    await listbox.wait_for()
    groups = listbox.get_by_role("group")
    assert await groups.first.get_attribute("aria-labelledby")
    assert await groups.first.get_by_role("option").all_inner_texts() == ["Melton", "Brimbank"]
    assert await listbox.get_by_role("group", name="Your areas").count() == 1
    assert await listbox.get_by_role("option", name="Brimbank").count() == 1  # listed once
    assert await listbox.get_by_role("option").count() == 79
    await page.get_by_role("status").filter(has_text="79 councils match").wait_for()
    await axe(page)
    heights = await listbox.get_by_role("option").evaluate_all(
        "options => options.slice(0, 5).map(o => o.getBoundingClientRect().height)"
    )
    assert min(heights) >= 44

    # Accents and case do not matter; a tap on an option chooses it.
    await council.fill("GEELÓNG")
    await listbox.get_by_role("option", name="Greater Geelong").click()
    assert await council.input_value() == "Greater Geelong" and await listbox.is_hidden()
    assert await council.evaluate("input => document.activeElement === input")

    # Escape closes the list, a second Escape clears the field; text naming no council is
    # sent as no council, and the server's own error shows.
    await council.press_sequentially("zz", delay=30)
    await page.get_by_role("status").filter(has_text="No council matches").wait_for()
    await council.press("Escape")
    await council.press("Escape")
    assert await council.input_value() == ""
    await council.press_sequentially("nowhere", delay=30)
    await fill_the_rest(page)
    await page.get_by_role("button", name="Add client").click()
    await page.get_by_role("heading", name="There is a problem").wait_for()
    await axe(page)
    assert await Client.all().count() == 0
    await page.get_by_role("link", name="Choose the client's council area").click()
    council = page.get_by_role("combobox", name="Council area")
    assert await council.evaluate("input => document.activeElement === input")
    assert await council.get_attribute("aria-invalid") == "true"
    assert await council.input_value() == ""  # no area chosen for you after that mistake


async def test_the_form_fits_a_small_phone(open_page, live_server):
    page = await open_page(width=320, height=640)
    priya = await priya_in_melton_and_brimbank()
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url("/clients/new"))
    await axe(page)
    await no_sideways_scroll(page, 320)
    council = page.get_by_role("combobox", name="Council area")
    await council.fill("moonee")
    await page.get_by_role("listbox", name="Council area").wait_for()
    await no_sideways_scroll(page, 320)
    await axe(page)


async def test_without_javascript_a_plain_select_with_your_areas_first(
    browser, live_server, db, smtp
):
    priya = await priya_in_melton_and_brimbank()
    context, page = await signed_in_without_javascript(browser, live_server, priya)
    await page.goto(live_server.url("/clients/new"))
    select = page.get_by_label("Council area")
    assert await select.evaluate("s => s.tagName") == "SELECT"
    assert await page.get_by_role("combobox", name="Council area").count() == 1  # the select
    first = select.locator("optgroup").first
    assert await first.get_attribute("label") == "Your areas"
    assert await first.locator("option").all_inner_texts() == ["Melton", "Brimbank"]
    assert await select.locator("option[value][selected]").all_inner_texts() == ["Melton"]
    await select.select_option(label="Brimbank")
    await fill_the_rest(page)
    await page.get_by_role("button", name="Add client").click()
    await page.get_by_role("heading", name="Ava Quinlan").wait_for()
    client = await Client.get(family_name="Quinlan").select_related("area")
    assert client.area.name == "Brimbank"
    await context.close()
