"""Ways in, in Chromium on a 390 px phone: an invitation to a team through the seven questions
(with a passkey, in the virtual authenticator) to the first client; self-signup; a refused
domain; expired and withdrawn invitations. axe checks every page."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from models.auth import PasskeyCredential
from models.invitations import Invitation
from models.practitioners import Practitioner
from models.teams import Membership
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import no_sideways_scroll, sign_in_as, sign_out, team_menu
from tests.browser.passkey_support import add_authenticator, stored_credentials
from web.core.auth import now, token_hash

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


async def continue_to(page, heading: str) -> None:
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_role("heading", name=heading).wait_for()
    await axe(page)
    await no_sideways_scroll(page, PHONE["width"])


async def test_invited_to_a_team_signs_up_with_a_passkey_and_finds_the_client(
    page, live_server, smtp
):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await page.set_viewport_size(PHONE)
    await sign_in_as(page, live_server, priya)
    await page.get_by_role("link", name="Mia Thompson").click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    menu = await team_menu(page)
    await menu.get_by_role("link", name="Invite a colleague to this team").click()
    await page.get_by_role("heading", name="Invite a colleague to this team").wait_for()
    await axe(page)
    await page.get_by_label("Your colleague's work email").fill("nina.new@brimbank.example")
    await page.get_by_role("button", name="Send the invitation").click()
    await page.get_by_text("Your colleague has been invited.").wait_for()
    await axe(page)
    invited = await Invitation.get(email="nina.new@brimbank.example")
    assert (invited.invited_by_id, invited.client_id) == (priya.id, mia.id)
    await sign_out(page)
    await page.get_by_role("heading", name="Sign in to Patchwork").wait_for()
    await axe(page)

    [invitation] = await smtp.mailbox.wait_for("nina.new@brimbank.example")
    assert "Mia" not in invitation.get_content()
    await page.goto(support.link_in(invitation))
    await page.get_by_role("heading", name="Welcome to Patchwork").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Get started").click()

    await page.get_by_text("Step 1 of 7").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Continue").click()  # nothing filled in
    await page.get_by_role("heading", name="There is a problem").wait_for()
    await axe(page)
    await page.get_by_label("Your full name").fill("Nina New")
    await page.get_by_label("Your job title").fill("Maternal & Child Health Nurse")
    await continue_to(page, "Your organisation and service")
    assert await page.get_by_label("Brimbank City Council — Maternal & Child Health").is_checked()
    await continue_to(page, "Your work phone numbers")
    await page.get_by_label("Work phone").fill("03 9249 4000")
    await continue_to(page, "Your areas")
    await page.get_by_role("link", name="Back").click()
    await page.get_by_role("heading", name="Your work phone numbers").wait_for()
    await axe(page)
    assert await page.get_by_label("Work phone").input_value() == "03 9249 4000"
    await continue_to(page, "Your areas")
    assert await page.get_by_label("Brimbank", exact=True).is_checked()
    await continue_to(page, "Create a passkey")

    cdp, authenticator = await add_authenticator(page)
    await page.get_by_label("Name this passkey").fill("Work phone")
    await page.get_by_role("button", name="Create a passkey").click()
    await page.get_by_text("Your passkey is ready").wait_for()
    await axe(page)
    assert len(await stored_credentials(cdp, authenticator)) == 1
    nina = await Practitioner.get(email="nina.new@brimbank.example")
    assert [p.name for p in await PasskeyCredential.filter(practitioner=nina)] == ["Work phone"]
    await continue_to(page, "Turn on alerts")
    await page.get_by_label("In one digest at 7 am").check()
    await continue_to(page, "Find your first client")
    await page.get_by_text("You are on the team you were invited to.").wait_for()
    nina = await Practitioner.get(id=nina.id)
    assert (nina.name, nina.job_title, nina.phone) == (
        "Nina New",
        "Maternal & Child Health Nurse",
        "03 9249 4000",
    )
    assert nina.notify_email == "digest" and nina.signed_up
    assert await Membership.filter(client=mia, practitioner=nina, ended_at__isnull=True).exists()

    await page.get_by_label("Client's name").fill("mia thom")
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("heading", name="Search", exact=True).wait_for()
    await axe(page)
    await page.get_by_role("link", name="View team").first.click()
    await page.get_by_role("heading", name="Mia Thompson").wait_for()
    await axe(page)
    assert await page.locator("#team").get_by_text("Nina New (you)").is_visible()


async def test_self_signup_then_the_walkthrough(page, live_server, smtp):
    await support.organisation()
    await page.set_viewport_size(PHONE)
    await page.goto(live_server.url("/signin"))
    await axe(page)
    await page.get_by_role("link", name="Join with your work email").click()
    await page.get_by_role("heading", name="Join Patchwork").wait_for()
    await axe(page)
    await page.get_by_label("Your work email address").fill("kim.lee@brimbank.example")
    await page.get_by_role("button", name="Send me a link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await axe(page)

    [verification] = await smtp.mailbox.wait_for("kim.lee@brimbank.example")
    await page.goto(support.link_in(verification))
    await page.get_by_role("heading", name="Welcome to Patchwork").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Get started").click()
    await page.get_by_text("Step 1 of 7").wait_for()
    await axe(page)
    await page.get_by_label("Your full name").fill("Kim Lee")
    await page.get_by_label("Your job title").fill("Youth Worker")
    await continue_to(page, "Your organisation and service")
    await continue_to(page, "Your work phone numbers")
    await page.get_by_label("Work mobile").fill("0491 570 110")
    await continue_to(page, "Your areas")
    await continue_to(page, "Create a passkey")
    await page.get_by_role("button", name="Skip for now").click()
    await page.get_by_role("heading", name="Turn on alerts").wait_for()
    await axe(page)
    await continue_to(page, "Find your first client")
    await page.get_by_role("link", name="Go to your dashboard").click()

    await page.get_by_text("Getting started · 1 of 4").wait_for()
    await axe(page)
    await page.get_by_role("link", name="Next").click()
    await page.get_by_text("Getting started · 2 of 4").wait_for()
    await axe(page)
    await page.get_by_role("button", name="Skip the tour").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    assert not await page.get_by_text("Getting started").count()
    kim = await Practitioner.get(email="kim.lee@brimbank.example")
    assert (kim.name, kim.job_title, kim.mobile) == ("Kim Lee", "Youth Worker", "0491 570 110")
    assert kim.walkthrough_done and kim.signed_up
    await page.get_by_role("button", name="Got it").click()
    await page.locator("#help-clients").wait_for(state="detached")
    assert (await Practitioner.get(id=kim.id)).dismissed_banners == ["clients"]


async def test_a_domain_nobody_owns_is_sent_to_a_colleague(page, live_server):
    await support.organisation()
    await page.set_viewport_size(PHONE)
    await page.goto(live_server.url("/signup"))
    await axe(page)
    await page.get_by_label("Your work email address").fill("someone@unknown.example")
    await page.get_by_role("button", name="Send me a link").click()
    await page.get_by_role("heading", name="There is a problem").wait_for()
    await axe(page)
    assert await page.get_by_text("Ask a colleague who uses Patchwork to invite you").count()


@pytest.mark.parametrize("how", ["expired", "withdrawn"])
async def test_an_expired_or_withdrawn_invitation_is_refused(page, live_server, how):
    priya = await support.practitioner()
    token = secrets.token_urlsafe(32)
    await Invitation.create(
        email="nina.new@brimbank.example",
        token_hash=token_hash(token),
        invited_by=priya,
        expires_at=now() + (timedelta(days=-1) if how == "expired" else timedelta(days=3)),
        revoked_at=now() if how == "withdrawn" else None,
    )
    await page.set_viewport_size(PHONE)
    await page.goto(live_server.url(f"/invitations/{token}"))
    await page.get_by_role("heading", name="This invitation has expired").wait_for()
    await axe(page)
