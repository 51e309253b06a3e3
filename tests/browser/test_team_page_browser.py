"""The team page's actions in Chromium, on a 320 px phone and an 820 px tablet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.notifications import Notification
from models.teams import Membership
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, team_menu
from web.core import clock

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 820])
async def test_every_team_action_on_a_phone_and_a_tablet(open_page, live_server, smtp, width):
    priya = await support.practitioner()
    aroha = await support.practitioner(
        "Aroha Ngata",
        "aroha.ngata@dffh.example",
        await support.organisation("DFFH — Child Protection", "dffh.example"),
        job_title="Child Protection Practitioner",
    )
    tom = await support.practitioner(
        "Tom Walsh", "tom.walsh@wyndham.example", job_title="Youth Worker"
    )
    mia = await support.client()
    await support.member(mia, priya)
    await support.member(mia, aroha)

    page = await open_page(width=width, height=900)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    await no_sideways_scroll(page, width)
    email_team = page.get_by_role("link", name="Email the whole team")
    assert await email_team.get_attribute("href") == "mailto:aroha.ngata@dffh.example"
    columns = await page.evaluate(
        "getComputedStyle(document.querySelector('#team')).gridTemplateColumns"
    )
    assert len(columns.split()) == (1 if width == 320 else 2)

    await (await team_menu(page)).get_by_role("button", name="I had contact today").click()
    await page.get_by_text("Your contact today is recorded.").wait_for()
    await axe(page)
    mine = await Membership.get(client=mia, practitioner=priya)
    assert mine.last_contact_on == clock.today()

    await (await team_menu(page)).get_by_role("link", name="Arrange a team meeting").click()
    await page.get_by_role("heading", name="Arrange a team meeting").wait_for()
    await axe(page)
    await page.get_by_label("Date").fill((clock.today() + timedelta(days=2)).isoformat())
    await page.get_by_label("Start time").fill("14:30")
    await page.get_by_label("Where, or a link to join").fill("Sunshine MCH Centre")
    await page.get_by_role("button", name="Send the invitation").click()
    await page.get_by_text("The meeting invitation is on its way").wait_for()
    await axe(page)
    [invite] = await smtp.mailbox.wait_for(aroha.email)
    [ics] = [part for part in invite.iter_attachments() if part.get_filename() == "meeting.ics"]
    assert "BEGIN:VEVENT" in ics.get_content()

    menu = await team_menu(page)
    await menu.get_by_role("link", name="Invite a colleague to this team").click()
    await page.get_by_role("heading", name="Invite a colleague to this team").wait_for()
    await axe(page)
    await page.get_by_label("Your colleague's work email").fill(tom.email)
    await page.get_by_role("button", name="Send the invitation").click()
    await page.get_by_text("Your colleague has been invited.").wait_for()
    await axe(page)
    assert await Notification.filter(
        practitioner=tom, kind="invited_to_team", client_id=mia.id
    ).exists()

    await page.get_by_role("link", name="History").click()
    await page.get_by_role("heading", name="Who was involved, and when").wait_for()
    await axe(page)
    await no_sideways_scroll(page, width)
    await page.get_by_role("link", name="Team", exact=True).click()

    await (await team_menu(page)).get_by_role("link", name="Show join code").click()
    await page.get_by_role("heading", name="Join code for Mia Thompson").wait_for()
    await axe(page)
    await no_sideways_scroll(page, width)
    assert await page.locator("figure.qr svg").count() == 1
    await page.get_by_text("Cannot scan? Share the link instead").click()
    join_link = (await page.locator(".link-text").inner_text()).strip()

    phone = await open_page(width=width, height=900)  # Tom's phone "scans" the code
    await sign_in_as(phone, live_server, tom)
    await phone.goto(join_link)
    await phone.get_by_role("heading", name="Join the team for Mia Thompson").wait_for()
    await axe(phone)
    await phone.get_by_label("I am working with this client").check()
    await phone.get_by_role("button", name="Join team").click()
    await phone.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(phone)
    assert await Membership.filter(client=mia, practitioner=tom, ended_at__isnull=True).exists()

    await page.goto(live_server.url(f"/clients/{mia.id}"))
    await axe(page)
    await (await team_menu(page)).get_by_role("link", name="Leave team…").click()
    await page.get_by_role("heading", name="Leave the team for Mia Thompson").wait_for()
    await axe(page)
    await page.get_by_label("The case is closed").check()
    await page.get_by_role("button", name="Leave team").click()
    await page.get_by_text("You have left the team.").wait_for()
    await axe(page)
    assert not await Membership.filter(
        client=mia, practitioner=priya, ended_at__isnull=True
    ).exists()


@pytest.mark.parametrize("width", [320, 820])
async def test_recording_the_lead_professional_by_keyboard(open_page, live_server, width):
    """From the More menu to the team page with Aroha first and labelled, by keyboard alone,
    then her "Your clients" card says she is the lead; axe on every page."""
    priya = await support.practitioner()
    aroha = await support.practitioner(
        "Aroha Ngata",
        "aroha.ngata@dffh.example",
        await support.organisation("DFFH — Child Protection", "dffh.example"),
        job_title="Child Protection Practitioner",
    )
    mia = await support.client()
    await support.member(mia, priya)
    await support.member(mia, aroha)

    page = await open_page(width=width, height=900)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_text("No lead professional").wait_for()
    await axe(page)
    await (await team_menu(page)).get_by_role("link", name="Lead professional…").click()
    await page.get_by_role("heading", name="Lead professional for Mia Thompson").wait_for()
    await axe(page)
    await no_sideways_scroll(page, width)
    await page.get_by_label("Aroha Ngata").focus()
    await page.keyboard.press("Space")
    await page.get_by_role("button", name="Save the lead professional").focus()
    await page.keyboard.press("Enter")
    await page.get_by_text("The lead professional is recorded").wait_for()
    await axe(page)
    first_card = page.locator("#team .member-card").first
    assert "Lead professional" in await first_card.inner_text()
    assert "Aroha Ngata" in await first_card.get_by_role("heading").inner_text()
    assert await Membership.filter(client=mia, practitioner=aroha, lead=True).exists()

    await sign_in_as(page, live_server, aroha)
    await page.get_by_text("You are the lead").wait_for()
    await axe(page)
