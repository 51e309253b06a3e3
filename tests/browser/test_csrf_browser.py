"""htmx 4 sends its requests with fetch: prove the CSRF token travels with them."""

from __future__ import annotations

import pytest

from models.audit import AuditEvent
from tests.browser.axe import axe

pytestmark = pytest.mark.browser


async def test_htmx_post_carries_the_csrf_header(page, live_server):
    await page.goto(live_server.url("/signin"))
    await axe(page)
    # Without the hidden field, only the X-CSRF-Token header (static/app.js) can vouch.
    await page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    requests = []
    page.on("request", lambda r: requests.append(r) if r.method == "POST" else None)
    await page.get_by_label("Work email address").fill("nobody@nowhere.example")
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_role("heading", name="Check your email").wait_for()
    await axe(page)
    [post] = requests
    assert post.headers["hx-request"] == "true"
    assert post.headers["x-csrf-token"]
    assert await AuditEvent.filter(action="signin.requested").count() == 1  # it was accepted


async def test_htmx_post_with_a_forged_token_is_refused(page, live_server):
    await page.goto(live_server.url("/signin"))
    await axe(page)
    await page.evaluate(
        "document.querySelector('input[name=csrf_token]').remove();"
        "document.querySelector('meta[name=csrf-token]').content = 'forged'"
    )
    await page.get_by_label("Work email address").fill("nobody@nowhere.example")
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await page.get_by_text("This form was out of date").wait_for()
    await axe(page)
    assert await page.get_by_role("heading", name="Check your email").count() == 0
    assert not await AuditEvent.exists()  # refused before anything was read or recorded
