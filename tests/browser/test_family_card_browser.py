"""The family's card in Chromium: Priya shares Mia's team with Jade by email, Jade opens it on
a 320 px phone, Aroha (child protection, asked each time) appears once she agrees, Priya's
opting out takes her off, and withdrawing leaves the neutral page."""

from __future__ import annotations

import pytest

from models.organisations import Organisation
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, team_menu

pytestmark = pytest.mark.browser

JADE = "jade.thompson@example.com"
NEVER_ON_THE_CARD = ("Sam", "Lee", "Westside", "Recovery", "Nair", "Ngata", "Thompson")


async def card_html(page) -> str:
    await page.reload()
    await page.get_by_role("heading", level=1).wait_for()
    await axe(page)
    html = await page.content()
    for absent in NEVER_ON_THE_CARD:
        assert absent not in html, absent
    return html


async def test_priya_shares_the_team_with_jade_who_sees_only_who_agreed(
    open_page, live_server, smtp
):
    priya, aroha, _sam, mia = await support.thompson_team()
    await Organisation.filter(name="DFFH — Child Protection").update(
        service_type="Child Protection"
    )

    page = await open_page(width=390)
    await sign_in_as(page, live_server, priya)
    await page.goto(live_server.url(f"/clients/{mia.id}"))
    await axe(page)
    await (await team_menu(page)).get_by_role("link", name="Share the team with the family").click()
    await page.get_by_role("heading", name="Share the team with the family").wait_for()
    await axe(page)
    await page.get_by_label("has agreed to get this card").check()
    await page.get_by_label("I have checked it is safe").check()
    await page.get_by_label("Who receives it").fill("Jade (mother)")
    await page.get_by_label("Email them a link").check()
    await page.get_by_label("Their email address").fill(JADE)
    await page.get_by_role("button", name="Share the team").click()
    await page.get_by_text("The card is on its way to them by email.").wait_for()
    await axe(page)

    [message] = await smtp.mailbox.wait_for(JADE)
    link = support.link_in(message)
    assert "/family/" in link

    # Jade, on her own phone: no session, 320 px wide.
    jade = await open_page(width=320, height=640)
    await jade.goto(link)
    await jade.get_by_role("heading", name="The team working with Mia").wait_for()
    await axe(jade)
    await no_sideways_scroll(jade, 320)
    call = jade.get_by_role("link", name="Call Priya")
    assert await call.get_attribute("href") == "tel:0355501234"
    html = await card_html(jade)
    assert "Aroha" not in html
    assert not [c for c in await jade.context.cookies() if c["name"].endswith("session")]

    # Aroha is asked for each card: she agrees, and is on it at once.
    aroha_page = await open_page(width=390)
    await sign_in_as(aroha_page, live_server, aroha)
    await aroha_page.goto(live_server.url(f"/clients/{mia.id}/family"))
    await aroha_page.get_by_text("You are not on this card yet.").wait_for()
    await axe(aroha_page)
    await aroha_page.get_by_role("button", name="Put me on this card").click()
    await aroha_page.get_by_text("You are on that card now.").wait_for()
    await axe(aroha_page)
    html = await card_html(jade)
    assert "Aroha" in html
    assert await jade.get_by_role("link", name="Call Aroha").get_attribute("href") == (
        "tel:0355503456"
    )

    # Priya opts out for this team: off the card.
    await page.goto(live_server.url(f"/clients/{mia.id}/family"))
    await axe(page)
    await page.get_by_label("Never list me").check()
    await page.get_by_role("button", name="Save this choice").click()
    await page.get_by_text("Your choice is saved.").wait_for()
    await axe(page)
    html = await card_html(jade)
    assert "Priya" not in html and "Aroha" in html

    # Withdrawn: the neutral page, which says nothing about Mia.
    await page.get_by_role("link", name="Withdraw this card…").click()
    await page.get_by_role("heading", name="Withdraw the card for Jade (mother)?").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Withdraw the card").click()
    await page.get_by_text("The card is withdrawn").wait_for()
    await axe(page)
    html = await card_html(jade)
    assert "This link does not work" in html and "Mia" not in html and "Aroha" not in html
