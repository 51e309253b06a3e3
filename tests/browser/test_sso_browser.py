"""A single sign-on round trip in Chromium against the test OpenID provider."""

from __future__ import annotations

import pytest

from models.auth import Session
from tests import support
from tests.browser.axe import axe

pytestmark = pytest.mark.browser


async def test_priya_signs_in_through_her_councils_provider(page, live_server, oidc):
    org = await support.sso_organisation(oidc)
    priya = await support.practitioner(org=org)
    mia = await support.client()
    await support.member(mia, priya)
    oidc.user = {"sub": "priya-1", "email": priya.email, "email_verified": True}

    await page.goto(live_server.url("/signin"))
    await axe(page)
    await page.get_by_label("Work email address").fill(priya.email)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == live_server.url("/signin")
    ) as answered:
        await page.get_by_role("button", name="Email me a sign-in link").click()
    # htmx went to the provider because the server said so, not through the page's link.
    signin = await answered.value
    assert signin.request.headers["hx-request"] == "true"
    assert signin.headers["hx-redirect"].startswith(f"{oidc.issuer}/authorize?")
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    assert await page.get_by_role("link", name="Mia Thompson").count() == 1
    [request] = oidc.authorize_requests
    assert request["code_challenge_method"] == "S256"
    assert await Session.filter(practitioner=priya, method="sso").count() == 1


async def test_without_javascript_sso_continues_through_a_link(open_page, live_server, oidc):
    org = await support.sso_organisation(oidc)
    priya = await support.practitioner(org=org)
    oidc.user = {"sub": "priya-1", "email": priya.email, "email_verified": True}
    page = await open_page()
    await page.route("**/*.js*", lambda route: route.abort())
    await page.goto(live_server.url("/signin"))
    await axe(page)
    await page.get_by_label("Work email address").fill(priya.email)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url == live_server.url("/signin")
    ) as answered:
        await page.get_by_role("button", name="Email me a sign-in link").click()
    assert "hx-redirect" not in (await answered.value).headers  # a plain form post
    await page.get_by_role("heading", name=f"Sign in with {org.name}").wait_for()
    await axe(page)
    await page.get_by_role("link", name="Continue to sign in").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    await axe(page)
    assert await Session.filter(practitioner=priya, method="sso").count() == 1
