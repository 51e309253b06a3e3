"""Passkeys in real Chromium, through its virtual authenticator: create one, then sign in
with the button and through autofill."""

from __future__ import annotations

import pytest

from models.audit import AuditEvent
from models.auth import PasskeyCredential, Session
from tests import support
from tests.browser.axe import axe
from tests.browser.journeys import sign_out
from tests.browser.passkey_support import add_authenticator, stored_credentials
from web.core.signins import create_signin_token, signin_url

pytestmark = pytest.mark.browser

#: A browser without passkey autofill: only the button can start a passkey sign-in.
NO_AUTOFILL = "PublicKeyCredential.isConditionalMediationAvailable = async () => false;"


async def copy_passkey(cdp_from, id_from, page_to):
    """Put the passkey from one virtual authenticator into a new one on another page."""
    cdp, authenticator = await add_authenticator(page_to)
    for credential in await stored_credentials(cdp_from, id_from):
        await cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential}
        )
    return cdp, authenticator


async def test_create_a_passkey_then_sign_in_with_the_button_and_with_autofill(
    open_page, live_server
):
    priya = await support.practitioner()

    # 1. Signed in by email link, Priya is offered a passkey and creates one.
    first = await open_page(init_script=NO_AUTOFILL)
    cdp, authenticator = await add_authenticator(first)
    await first.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await axe(first)
    await first.get_by_role("button", name="Sign in to Patchwork").click()
    await first.get_by_role("heading", name="Sign in faster next time").wait_for()
    await axe(first)
    await first.get_by_label("Name this passkey").fill("Work phone")
    await first.get_by_role("button", name="Create a passkey").click()
    await first.wait_for_url("**/profile#passkeys")
    await axe(first)
    assert await first.get_by_role("heading", name="Work phone").count() == 1
    assert len(await stored_credentials(cdp, authenticator)) == 1
    stored = await PasskeyCredential.get(practitioner=priya)
    assert stored.name == "Work phone"
    await sign_out(first)
    await first.wait_for_url("**/signin**")
    await axe(first)

    # 2. On a browser without autofill, the button signs her in.
    second = await open_page(init_script=NO_AUTOFILL)
    cdp2, authenticator2 = await copy_passkey(cdp, authenticator, second)
    await second.goto(live_server.url("/signin"))
    await axe(second)
    await second.get_by_role("button", name="Sign in with a passkey").click()
    await second.get_by_role("heading", name="Your clients").wait_for()
    await axe(second)
    assert await second.get_by_role("heading", name="Sign in faster next time").count() == 0
    await sign_out(second)
    await second.wait_for_url("**/signin**")
    await axe(second)

    # 3. Where autofill is offered, choosing the passkey from it signs her in.
    third = await open_page()
    cdp3, authenticator3 = await copy_passkey(cdp2, authenticator2, third)
    # Hold the authenticator's "user" back until the page has been checked.
    await cdp3.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator3, "enabled": False},
    )
    await third.goto(live_server.url("/signin?next=%2Fprofile"))
    await axe(third)
    assert await third.get_attribute("#email", "autocomplete") == "username webauthn"
    await cdp3.send(
        "WebAuthn.setAutomaticPresenceSimulation",
        {"authenticatorId": authenticator3, "enabled": True},
    )
    await third.reload()  # a pending request does not notice; a fresh page's autofill does
    await third.get_by_role("heading", name="Your profile").wait_for()
    await axe(third)
    email_field = await third.evaluate("document.querySelector('#email') === null")
    assert email_field  # we left the sign-in page without typing anything

    assert [s.method for s in await Session.filter(practitioner=priya)] == ["passkey"]
    sign_ins = await AuditEvent.filter(action="signin.succeeded").order_by("id")
    assert [e.detail["method"] for e in sign_ins] == ["email", "passkey", "passkey"]
    stored = await PasskeyCredential.get(practitioner=priya)
    assert stored.sign_count >= 2 and stored.last_used_at is not None


async def test_a_page_without_javascript_still_signs_in_by_email(open_page, live_server):
    page = await open_page()
    await page.route("**/*.js*", lambda route: route.abort())
    await page.goto(live_server.url("/signin"))
    await axe(page)
    assert not await page.get_by_role("button", name="Sign in with a passkey").is_visible()
    assert await page.get_by_role("button", name="Email me a sign-in link").is_visible()


async def test_profile_and_devices_pages_sign_out_other_devices(open_page, live_server):
    priya = await support.practitioner()
    phone = await open_page()
    await phone.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await axe(phone)
    await phone.get_by_role("button", name="Sign in to Patchwork").click()
    await phone.get_by_role("heading", name="Your clients").wait_for()
    await axe(phone)

    laptop = await open_page(width=1280, height=800)
    await laptop.goto(signin_url(live_server.base_url, await create_signin_token(priya)))
    await axe(laptop)
    await laptop.get_by_role("button", name="Sign in to Patchwork").click()
    await laptop.get_by_role("heading", name="Your clients").wait_for()
    await axe(laptop)
    await laptop.get_by_role("link", name="Profile").click()
    await laptop.get_by_role("heading", name="Your profile").wait_for()
    await axe(laptop)
    await laptop.get_by_role("link", name="See where you are signed in").click()
    await laptop.get_by_role("heading", name="Signed-in devices").wait_for()
    await axe(laptop)
    assert await laptop.locator("#sessions > li").count() == 2
    assert await Session.filter(practitioner=priya).count() == 2
    await laptop.get_by_role("button", name="Sign out of all other devices").click()
    await laptop.get_by_role("heading", name="Signed-in devices").wait_for()
    await axe(laptop)
    assert await laptop.locator("#sessions > li").count() == 1
    assert await Session.filter(practitioner=priya).count() == 1

    await phone.reload()
    await axe(phone)
    assert "/signin" in phone.url
