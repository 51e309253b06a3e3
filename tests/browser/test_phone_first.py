"""Phone first: the team above the fold, a bottom bar on phones, targets big enough for a thumb,
every main page axe-clean at 320, 390 and 820 px, and strips of tabs that show every item, keep
still from page to page and never scroll sideways."""

from __future__ import annotations

import pytest

from models.attentions import Attention
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, team_menu

pytestmark = pytest.mark.browser

SIZES = [(320, 568), (390, 844), (820, 1180)]

#: Every interactive element's box, and whether it sits inside a sentence (WCAG 2.5.8 exempts
#: links in running text from the 24 px minimum).
TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, summary, select, input:not([type=hidden]), textarea')]
  .filter(el => el.checkVisibility() && !el.closest('.skip-link'))
  .map(el => {
    const box = el.getBoundingClientRect();
    const parent = el.parentElement;
    const inline = ['P', 'DD', 'SPAN', 'LI'].includes(parent.tagName)
      && parent.textContent.trim() !== el.textContent.trim() && el.tagName === 'A'
      && !el.className;
    return {html: el.outerHTML.slice(0, 120), width: box.width, height: box.height, inline,
            big: el.matches('a[href^="tel:"], a[href^="mailto:"], .button, .main-nav a')};
  })"""


async def assert_targets(page) -> None:
    small = []
    for target in await page.evaluate(TARGETS):
        least = 44 if target["big"] else 24
        if target["inline"] and not target["big"]:
            continue
        if target["width"] < least - 0.5 or target["height"] < least - 0.5:
            small.append(f"{target['html']} is {target['width']:.0f}×{target['height']:.0f} px")
    assert not small, f"{page.url}: targets too small:\n" + "\n".join(small)


#: Each item of a strip (its links), where it is and how wide the strip is inside.
STRIP = """(selector) => {
  const strip = document.querySelector(selector);
  return {scroll: strip.scrollWidth, client: strip.clientWidth,
          items: [...strip.querySelectorAll('a')].map(a => {
            const box = a.getBoundingClientRect();
            return {text: a.textContent.trim(), left: box.left, right: box.right, top: box.top,
                    bottom: box.bottom, width: box.width, height: box.height,
                    label: a.firstChild.nodeType === Node.TEXT_NODE};
          })};
}"""


async def assert_every_item_in_view(page, selector: str, width: int) -> list[dict]:
    """Every item of the strip inside the window, none scrolled out of sight, each 44 px tall."""
    strip = await page.evaluate(STRIP, selector)
    assert strip["scroll"] <= strip["client"] + 0.5, f"{selector} scrolls sideways: {strip}"
    for item in strip["items"]:
        assert item["left"] >= 0 and item["right"] <= width + 0.5, f"{item} is off screen"
        assert item["height"] >= 43.5, item
    return strip["items"]


async def a_busy_team():
    """Priya's client with a long name, other names, three teammates and an open attention."""
    priya = await support.practitioner()
    mia = await support.client("Mia-Rose", "Thompson-Papadopoulos", other_names="Mimi, Rosie")
    await support.member(mia, priya)
    for n, (name, role) in enumerate(
        [("Aroha Ngata", "Child Protection Practitioner"), ("Sam Lee", "Clinician")]
    ):
        other = await support.practitioner(
            name, f"colleague{n}@brimbank.example", job_title=role, phone="03 5550 9999"
        )
        await support.member(mia, other)
    await Attention.create(client=mia, raised_by=priya, text="Missed two appointments")
    return priya, mia


@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_the_first_member_and_their_call_button_are_on_the_first_screen(
    open_page, live_server, width, height
):
    priya, mia = await a_busy_team()
    page = await open_page(width=width, height=height)
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url(f"/clients/{mia.id}"))
    await axe(page)
    await no_sideways_scroll(page, width)
    bar = await page.get_by_role("navigation", name="Main").bounding_box()
    fold = bar["y"] if width < 700 else height  # the bottom bar covers the end of the screen
    card = page.locator("#team .member-card").first
    for part in (
        card.locator(".card-title"),
        card.locator(".role"),
        card.locator("a[href^='tel:']").first,
    ):
        box = await part.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= fold, (
            f"{await part.inner_text()!r} ends at {box['y'] + box['height']:.0f} px, "
            f"below the fold at {fold:.0f} px ({width}×{height})"
        )
    await assert_targets(page)
    # A type scale: client name > section > card title > meta, and nothing read below 16 px.
    sizes = await page.evaluate(
        """() => ['h1', 'main h2', '#team .card-title', '#team .meta', '#team .role']
            .map(s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize))"""
    )
    name, section, title, meta, body = sizes
    assert name > section > title > 16 and meta >= 16 and body >= 16, sizes
    # The help banner explains the team: it comes after it, never above.
    assert await page.evaluate(
        "document.querySelector('#team').compareDocumentPosition("
        "document.querySelector('.help-banner')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    # The other actions are one tap away in "More": the list drops down over the page, so
    # neither its summary nor the team below it moves; leaving is marked as destructive.
    summary = page.locator("details.menu > summary")
    closed = await summary.bounding_box()
    heading = await page.locator("main h2").first.bounding_box()
    menu = await team_menu(page)
    assert await summary.bounding_box() == closed
    assert await page.locator("main h2").first.bounding_box() == heading
    listed = await menu.locator("ul").bounding_box()
    assert listed["x"] >= 0 and listed["x"] + listed["width"] <= width + 0.5, listed
    right = closed["x"] + closed["width"]
    assert abs(listed["x"] + listed["width"] - right) <= 1  # right-aligned under the summary
    for item in await menu.locator("li > a, li > button").all():  # a gap before each label
        gap = await item.evaluate(
            "el => el.querySelector('span').getBoundingClientRect().left"
            " - el.querySelector('.icon').getBoundingClientRect().right"
        )
        assert gap >= 6, f"{await item.inner_text()!r}: {gap:.0f} px between icon and label"
    await axe(page)
    leave = menu.get_by_role("link", name="Leave team")
    colour = await leave.evaluate("el => getComputedStyle(el).color")
    assert colour == "rgb(179, 38, 30)"  # --danger
    await assert_targets(page)


@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_a_bottom_bar_of_five_on_phones_and_a_top_bar_on_tablets(
    open_page, live_server, width, height
):
    priya, _mia = await a_busy_team()
    page = await open_page(width=width, height=height)
    await sign_in_as(page, live_server, priya)
    nav = page.get_by_role("navigation", name="Main")
    links = nav.get_by_role("link")
    assert await links.count() <= 5
    names = [await link.inner_text() for link in await links.all()]
    assert [name.split("\n")[0].strip() for name in names] == [
        "Clients",
        "Search",
        "Phone book",
        "Alerts",
        "Profile",
    ]
    for link in await links.all():
        assert await link.locator("svg.icon use").count() == 1  # an icon from the one sprite
    box = await nav.bounding_box()
    if width < 700:
        assert box["height"] <= 64
        assert abs(box["y"] + box["height"] - height) <= 1  # along the bottom edge
    else:
        assert box["y"] < 60  # in the top bar
    await nav.get_by_role("link", name="Alerts").click()
    await page.get_by_role("heading", name="Notifications").wait_for()
    await axe(page)
    alerts = nav.get_by_role("link", name="Alerts")
    assert await alerts.get_attribute("aria-current") == "page"


@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_every_main_page_is_axe_clean_and_thumb_sized(open_page, live_server, width, height):
    priya, mia = await a_busy_team()
    page = await open_page(width=width, height=height)
    await sign_in_as(page, live_server, priya)
    await assert_targets(page)
    attention = await Attention.get(client=mia)
    for path in (
        "/clients/search?q=mia+thompson",
        "/clients/search?q=aroah",
        f"/clients/{mia.id}/attentions",
        f"/clients/{mia.id}/attentions/{attention.id}/resolve",
        f"/clients/{mia.id}/circle",
        f"/clients/{mia.id}/history",
        "/notifications",
        "/profile",
        "/people",
        "/people?q=sam+lee",
        "/help",
    ):
        await page.goto(live_server.url(path))
        await axe(page)
        await no_sideways_scroll(page, width)
        await assert_targets(page)


async def test_the_more_menu_and_the_confirmations_work_without_javascript(
    browser, live_server, db, smtp
):
    priya, mia = await a_busy_team()
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, java_script_enabled=False
    )
    page = await context.new_page()
    from web.core.signins import create_signin_token, signin_url

    await page.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.goto(live_server.url(f"/clients/{mia.id}"))
    menu = await team_menu(page)
    await menu.get_by_role("link", name="Leave team").click()
    await page.get_by_role("heading", name="Leave the team for").wait_for()
    await page.goto(live_server.url(f"/clients/{mia.id}/attentions"))
    await page.get_by_role("link", name="Resolve…").click()
    await page.get_by_role("heading", name="Resolve this attention?").wait_for()
    await page.get_by_role("link", name="Keep it open").click()
    assert (await Attention.get(client=mia)).resolved_at is None
    await page.get_by_role("link", name="Resolve…").click()
    await page.get_by_role("button", name="Resolve the attention").click()
    await page.get_by_text("Nothing open.").wait_for()
    assert (await Attention.get(client=mia)).resolved_at is not None
    await context.close()


@pytest.mark.parametrize("width", [320, 390])
async def test_the_tabs_fit_and_keep_still_from_tab_to_tab(open_page, live_server, width):
    """The four tabs fit the phone's width, none scrolled out of sight; the current one (bold,
    underlined) is as wide and its label as high as when it is not, so nothing moves."""
    priya, mia = await a_busy_team()
    page = await open_page(width=width, height=740)
    await sign_in_as(page, live_server, priya)
    seen = {}
    for tab, path in (("Team", ""), ("Attentions", "/attentions"), ("Circle", "/circle")):
        await page.goto(live_server.url(f"/clients/{mia.id}{path}"))
        await axe(page)
        items = await assert_every_item_in_view(page, ".tabs ul", width)
        seen[tab] = [(round(i["left"]), round(i["width"])) for i in items]
        labels = await page.evaluate(
            """() => [...document.querySelectorAll('.tabs a')].map(a => {
                const range = document.createRange();
                range.selectNodeContents(a.firstChild);
                return range.getBoundingClientRect().top;
            })"""
        )
        assert max(labels) - min(labels) < 0.5, f"labels at {labels} on the {tab} tab"
        await no_sideways_scroll(page, width)
    assert seen["Team"] == seen["Attentions"] == seen["Circle"], seen


@pytest.mark.parametrize("width", [320, 390])
async def test_the_administration_menu_shows_every_item_and_the_heading_comes_first(
    open_page, live_server, width
):
    grace = await support.local_admin()
    page = await open_page(width=width, height=740)
    await sign_in_as(page, live_server, grace)
    await page.goto(live_server.url("/admin"))
    nav = page.get_by_role("navigation", name="Administration")
    items = await assert_every_item_in_view(page, ".admin-nav ul", width)
    assert [item["text"] for item in items] == [
        "Overview",
        "Organisations",
        "Practitioners",
        "Invitations",
        "Audit log",
    ]
    for link in await nav.get_by_role("link").all():
        assert await link.is_visible()
    # "Overview" first, then whose areas these are.
    assert await page.evaluate(
        "document.querySelector('main h1').compareDocumentPosition("
        "document.querySelector('.admin-scope')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    await axe(page)
    await no_sideways_scroll(page, width)
    await assert_targets(page)
