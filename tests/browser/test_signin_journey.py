"""Signing in as Priya through the real emailed link, and out again, in Chromium."""

from __future__ import annotations

import pytest

from models.audit import AuditEvent
from models.auth import Session
from tests.browser.axe import axe
from tests.browser.journeys import sign_out
from tests.support import link_in
from web.demo.fabricate import load_demo

pytestmark = pytest.mark.browser

PRIYA = "priya.nair@brimbank.example"


async def test_priya_signs_in_by_email_link_sees_her_clients_and_signs_out(page, live_server, smtp):
    await load_demo("AU-VIC", clients=40, seed=3)

    await page.goto(live_server.url("/"))
    assert "/signin" in page.url  # not signed in: sent to sign in, and back afterwards
    await axe(page)
    await page.get_by_label("Work email address").fill(PRIYA)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await axe(page)

    [message] = await smtp.mailbox.wait_for(PRIYA)
    assert message["Subject"] == "Your Patchwork sign-in link"
    await page.goto(link_in(message))
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    mia = page.get_by_role("link", name="Mia Thompson")
    assert await mia.count() == 1
    card = page.locator("article", has=mia)
    assert "Brimbank" in await card.inner_text()
    assert "2 team members" in await card.inner_text()  # Priya and Aroha; Sam is discreet
    assert "1 open attention" in await card.inner_text()

    await sign_out(page)
    await page.get_by_text("You have signed out.").wait_for()
    await axe(page)
    assert not await Session.filter(practitioner__email=PRIYA).exists()
    assert await AuditEvent.filter(action="signout").count() == 1
    assert not await page.context.cookies() or all(
        c["name"] != "pwtest_session" for c in await page.context.cookies()
    )

    await page.go_back()
    await page.wait_for_load_state("domcontentloaded")
    await axe(page)
    content = await page.content()
    for personal in ("Mia Thompson", "Priya", "Your clients"):
        assert personal not in content
    assert "/signin" in page.url


async def test_a_used_link_cannot_sign_in_again(page, live_server, smtp):
    await load_demo("AU-VIC", clients=10, seed=3)
    await page.goto(live_server.url("/signin"))
    await axe(page)
    await page.get_by_label("Work email address").fill(PRIYA)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    [message] = await smtp.mailbox.wait_for(PRIYA)
    link = link_in(message)
    await page.goto(link)
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    await page.context.clear_cookies()

    await page.goto(link)
    await axe(page)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_text("That sign-in link has expired or was already used").first.wait_for()
    await axe(page)
    assert "/signin/link" in page.url
