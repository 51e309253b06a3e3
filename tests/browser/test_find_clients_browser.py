"""Finding a client as you type, local first; joining from the card; adding a client fast."""

from __future__ import annotations

from datetime import date

import pytest

from models.audit import AuditEvent
from models.auth import RateLimitHit
from models.practitioners import PractitionerArea
from models.teams import Membership
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import sign_in_as
from web.core.signins import create_signin_token, signin_url

pytestmark = pytest.mark.browser


async def signed_in_priya(page, live_server):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council("LGA21180"))
    await page.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    return priya


async def test_search_as_you_type_show_more_back_and_join_from_the_card(page, live_server):
    for n, code in enumerate(("LGA21180", "LGA24650", "LGA22750")):
        await support.client(
            "Mia", "Thompson", area=await support.council(code), birth_date=date(2023, 3, 10 + n)
        )
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    melton_mia = await support.client(
        "Mia", "Thompson", area=await support.council("LGA24650"), birth_date=date(2020, 1, 1)
    )
    await support.member(melton_mia, tom)
    priya = await signed_in_priya(page, live_server)

    await page.get_by_role("link", name="Find a client").first.click()
    await page.get_by_role("heading", name="Search", exact=True).wait_for()
    await axe(page)
    await page.get_by_label("client, colleague or service").press_sequentially(
        "mia thompsen", delay=30
    )
    await page.get_by_role("heading", name="In your areas").wait_for()
    await page.wait_for_url("**/clients/search?q=mia+thompsen*")  # hx-push-url
    await axe(page)
    local = page.locator("#group-local")
    assert await local.get_by_role("heading", name="Mia Thompson").count() == 1
    assert await page.locator("#group-district .result-card").count() == 0

    await page.locator("#group-district").get_by_role("link", name="Show more").click()
    await page.locator("#group-district .result-card").first.wait_for()
    await axe(page)
    assert await page.locator("#group-district .result-card").count() == 2
    assert "scope=" not in page.url  # "Show more" does not change the address

    # Back to the empty search page and forward again: history works.
    await page.go_back()
    await page.wait_for_url("**/clients/search")
    await axe(page)
    await page.go_forward()
    await page.get_by_role("heading", name="In your areas").wait_for()
    await axe(page)

    card = page.locator("#group-local .result-card").first
    await card.get_by_role("link", name="Join team").click()
    await page.get_by_role("heading", name="Join the team for Mia Thompson").wait_for()
    await axe(page)
    assert await page.get_by_label("Your role with this client").input_value() == priya.job_title
    await page.get_by_label("I am working with this client").check()
    await page.get_by_role("button", name="Join team").click()
    await page.get_by_role("heading", name="Team").wait_for()
    await axe(page)
    assert await Membership.filter(practitioner=priya).count() == 1


#: Counts what the person does, as the browser sees it (kept across pages in sessionStorage):
#: each trusted click (a button, a link, a tick) and each field typed into.
COUNT_ACTIONS = """
(() => {
  const bump = () => sessionStorage.setItem(
    'actions', String(Number(sessionStorage.getItem('actions') || 0) + 1));
  let typingIn = null;
  document.addEventListener('click', (e) => {
    if (e.isTrusted) { typingIn = null; bump(); }
  }, true);
  document.addEventListener('input', (e) => {
    if (e.isTrusted && e.target !== typingIn) { typingIn = e.target; bump(); }
  }, true);
})();
"""


async def test_typing_with_pauses_counts_one_search(page, live_server):
    """Issue 17: each pause sends a search (htmx, 500 ms), but the run counts once."""
    await support.client("Mia", "Thompson", area=await support.council("LGA21180"))
    priya = await signed_in_priya(page, live_server)
    await page.goto(live_server.url("/clients/search"))
    await axe(page)
    field = page.get_by_label("client, colleague or service")
    await field.press_sequentially("mia t", delay=30)
    await page.get_by_role("heading", name="In your areas").wait_for()
    for letters in ("ho", "mp", "son"):
        await page.wait_for_timeout(700)  # a pause: htmx asks again
        await field.press_sequentially(letters, delay=30)
        await page.wait_for_function(
            "v => document.querySelector('input[name=after]')?.value === v",
            arg=(await field.input_value()).lower(),
        )
    await axe(page)
    assert await AuditEvent.filter(action="client.searched", actor_id=priya.id).count() >= 4
    assert await RateLimitHit.filter(key=f"search:{priya.id}").count() == 1


async def test_add_a_client_in_at_most_eight_actions_after_typing_the_name(open_page, live_server):
    page = await open_page(init_script=COUNT_ACTIONS)
    priya = await signed_in_priya(page, live_server)
    await page.goto(live_server.url("/clients/search"))
    await axe(page)
    await page.get_by_label("client, colleague or service").fill(
        "Ava Quinlan-Smith"
    )  # typing the name
    await page.evaluate("sessionStorage.setItem('actions', '0')")  # counted from here

    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("link", name="Add a new client").wait_for()
    await axe(page)
    await page.get_by_role("link", name="Add a new client").click()
    await page.get_by_role("heading", name="Add a new client").wait_for()
    await axe(page)
    # The name typed into search is carried over, and the area is already chosen.
    assert await page.get_by_label("Given name").input_value() == "Ava"
    assert await page.get_by_label("Family name").input_value() == "Quinlan-Smith"
    await page.get_by_label("I know the year only").check()
    await page.get_by_label("Year of birth").fill("2016")
    await page.get_by_label("The client (or their parent or guardian) gave consent").check()
    await page.get_by_role("button", name="Add client").click()
    await page.get_by_role("heading", name="Ava Quinlan-Smith").wait_for()
    await axe(page)
    actions = int(await page.evaluate("sessionStorage.getItem('actions')"))
    assert 6 <= actions <= 9, actions  # search, add, year only, the year, consent, add client
    membership = await Membership.get(practitioner=priya).select_related("client__area")
    client = membership.client
    assert (client.given_name, client.family_name) == ("Ava", "Quinlan-Smith")
    assert client.birth_year == 2016 and client.area.name == "Brimbank"


async def test_add_a_client_asks_each_follow_up_only_when_its_choice_is_made(
    open_page, live_server
):
    """Issue 17: the date or the year, and the legal basis, show once chosen; in CSS alone, so
    the same without JavaScript."""
    priya = None
    for scripts in (True, False):
        page = await open_page()
        if not scripts:
            await page.route("**/*.js*", lambda route: route.abort())
        if priya is None:
            priya = await signed_in_priya(page, live_server)
        else:
            await sign_in_as(page, live_server, priya)
        await page.goto(live_server.url("/clients/new?q=ava+quinlan"))
        await axe(page)
        date_field, year = (
            page.get_by_label("Date of birth", exact=True),
            page.get_by_label("Year of birth"),
        )
        basis = page.get_by_label("Legal basis", exact=True)
        assert await date_field.is_visible() and not await year.is_visible()
        assert not await basis.is_visible()  # no sharing choice is made for you
        await page.get_by_label("I know the year only").check()
        assert await year.is_visible() and not await date_field.is_visible()
        await page.get_by_label("Not known").check()
        assert not await year.is_visible() and not await date_field.is_visible()
        await page.get_by_label("Shared without consent, on a legal basis").check()
        assert await basis.is_visible()
        options = await basis.locator("option").all_inner_texts()
        assert any("Child Information Sharing Scheme" in o for o in options)
        assert not any("Children Act 1989" in o for o in options)
        await page.get_by_label("The client (or their parent or guardian) gave consent").check()
        assert not await basis.is_visible()
        await axe(page)


async def test_search_works_as_a_plain_form_without_javascript(open_page, live_server):
    page = await open_page()
    await page.route("**/*.js*", lambda route: route.abort())
    await support.client("Mia", "Thompson", area=await support.council("LGA24650"))
    await signed_in_priya(page, live_server)
    await page.goto(live_server.url("/clients/search"))
    await axe(page)
    await page.get_by_label("client, colleague or service").fill("thompson mia")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("heading", name="In your areas").wait_for()
    await axe(page)
    await page.locator("#group-district").get_by_role("link", name="Show more").click()
    await page.locator("#group-district .result-card").first.wait_for()
    await axe(page)


async def test_a_session_that_ended_while_the_page_was_open_goes_to_sign_in(page, live_server):
    from models.auth import Session

    await support.client("Mia", "Thompson", area=await support.council("LGA21180"))
    await signed_in_priya(page, live_server)
    await page.get_by_role("link", name="Find a client").first.click()
    await page.get_by_role("heading", name="Search", exact=True).wait_for()
    await axe(page)
    await Session.all().delete()  # signed out elsewhere, or the session timed out
    await page.get_by_label("client, colleague or service").press_sequentially(
        "mia thompson", delay=30
    )
    # htmx follows HX-Redirect: the whole page is sign-in, not an error inside the search page.
    await page.wait_for_url("**/signin?next=%2Fclients%2Fsearch*")
    await page.get_by_role("heading", name="Sign in").first.wait_for()
    assert await page.get_by_text("Please sign in again").count() == 0
    assert await page.locator("#group-local").count() == 0
    await axe(page)
