"""Passkey rules, with a software authenticator: what is accepted, and all that is refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from webauthn.helpers import bytes_to_base64url

from models.audit import AuditEvent
from models.auth import PasskeyCredential, RateLimitHit, Session, WebAuthnChallenge
from tests import support
from tests.soft_authenticator import SoftPasskey
from tests.web.helpers import csrf_token, sign_in
from tests.web.test_signin import browser_at
from web.core import ratelimit
from web.core.auth import now

ORIGIN = "http://testserver"


@pytest.fixture
async def priya():
    return await support.practitioner()


async def register(client, passkey: SoftPasskey, name: str = "Work phone", origin=None):
    token = await csrf_token(client, "/profile")
    headers = {"X-CSRF-Token": token}
    options = (await client.post("/passkeys/register/options", headers=headers)).json()
    credential = passkey.create(options, origin)
    return await client.post(
        "/passkeys/register", json={"credential": credential, "name": name}, headers=headers
    )


async def authenticate(client, passkey: SoftPasskey, origin=None, options=None, **body):
    token = await csrf_token(client, "/signin")
    headers = {"X-CSRF-Token": token}
    if options is None:
        options = (await client.post("/passkeys/authenticate/options", headers=headers)).json()
    credential = passkey.get(options, origin)
    response = await client.post(
        "/passkeys/authenticate", json={"credential": credential, **body}, headers=headers
    )
    return response, options


async def registered(client, priya) -> SoftPasskey:
    await sign_in(client, priya)
    passkey = SoftPasskey(rp_id="testserver", origin=ORIGIN)
    response = await register(client, passkey)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return passkey


async def test_register_then_sign_in_with_the_passkey(client, priya, settings):
    passkey = await registered(client, priya)
    stored = await PasskeyCredential.get(practitioner=priya)
    assert stored.name == "Work phone" and stored.sign_count == 0 and not stored.backup_eligible

    response, options = await authenticate(client, passkey, next="/clients/1")
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/clients/1"}
    assert options["userVerification"] == "required"
    assert response.cookies.get(settings.session_cookie)
    assert await Session.filter(practitioner=priya, method="passkey").count() == 1
    stored = await PasskeyCredential.get(practitioner=priya)
    assert stored.sign_count == 1 and stored.last_used_at is not None
    methods = [
        e.detail["method"]
        for e in await AuditEvent.filter(action="signin.succeeded").order_by("id")
    ]
    assert methods == ["email", "passkey"]


async def test_registration_asks_for_a_discoverable_user_verified_passkey(client, priya):
    await sign_in(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    options = (await client.post("/passkeys/register/options", headers=headers)).json()
    assert options["rp"] == {"id": "testserver", "name": "Patchwork"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert "priya" not in options["user"]["id"].lower()  # the handle is opaque


async def test_a_replayed_challenge_is_refused(client, priya):
    passkey = await registered(client, priya)
    first, options = await authenticate(client, passkey)
    assert first.status_code == 200
    client.cookies.clear()
    replay, _ = await authenticate(client, passkey, options=options)
    assert replay.status_code == 400
    assert "expired or was already used" in replay.json()["error"]
    assert await AuditEvent.filter(action="signin.failed", actor_id=priya.id).count() == 1


async def test_a_challenge_from_another_browser_is_refused(client, priya):
    passkey = await registered(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client)}
    options = (await client.post("/passkeys/authenticate/options", headers=headers)).json()
    client.cookies.clear()  # a different browser (no shared CSRF cookie) tries to use it
    response, _ = await authenticate(client, passkey, options=options)
    assert response.status_code == 400
    assert not await Session.filter(method="passkey").exists()


async def test_an_expired_challenge_is_refused(client, priya):
    passkey = await registered(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client)}
    options = (await client.post("/passkeys/authenticate/options", headers=headers)).json()
    await WebAuthnChallenge.all().update(expires_at=now() - timedelta(seconds=1))
    response, _ = await authenticate(client, passkey, options=options)
    assert response.status_code == 400


async def test_a_response_made_for_another_origin_is_refused(client, priya):
    passkey = await registered(client, priya)
    response, _ = await authenticate(client, passkey, origin="https://evil.example")
    assert response.status_code == 400
    assert not await Session.filter(method="passkey").exists()
    failed = await AuditEvent.get(action="signin.failed")
    assert failed.actor_id == priya.id and "origin" in failed.detail["reason"].lower()


async def test_registration_from_another_origin_is_refused(client, priya):
    await sign_in(client, priya)
    response = await register(
        client, SoftPasskey("testserver", ORIGIN), origin="https://evil.example"
    )
    assert response.status_code == 400
    assert await PasskeyCredential.all().count() == 0
    assert await AuditEvent.filter(action="passkey.refused").exists()


async def test_a_removed_passkey_no_longer_signs_in(client, priya):
    passkey = await registered(client, priya)
    await sign_in(client, priya)
    stored = await PasskeyCredential.get(practitioner=priya)
    response = await client.post(
        f"/passkeys/{stored.id}/remove", data={"csrf_token": await csrf_token(client, "/profile")}
    )
    assert response.status_code == 303
    assert await AuditEvent.filter(action="passkey.removed").exists()
    client.cookies.clear()
    attempt, _ = await authenticate(client, passkey)
    assert attempt.status_code == 400
    assert "not registered" in attempt.json()["error"]
    assert await AuditEvent.filter(action="signin.failed").count() == 1


async def test_removing_a_passkey_needs_a_recent_sign_in(client, priya):
    await registered(client, priya)
    await sign_in(client, priya)
    await Session.all().update(authenticated_at=now() - timedelta(minutes=16))
    stored = await PasskeyCredential.get(practitioner=priya)
    response = await client.post(
        f"/passkeys/{stored.id}/remove", data={"csrf_token": await csrf_token(client, "/profile")}
    )
    assert response.status_code == 403
    assert "sign in again" in response.text.lower()
    assert await PasskeyCredential.all().count() == 1


async def test_a_sign_count_that_goes_backwards_is_refused(client, priya):
    passkey = await registered(client, priya)
    assert (await authenticate(client, passkey))[0].status_code == 200
    client.cookies.clear()
    passkey.sign_count = 0  # a cloned authenticator replays an old counter
    response, _ = await authenticate(client, passkey)
    assert response.status_code == 400


async def test_a_passkey_without_user_verification_is_refused(client, priya):
    passkey = await registered(client, priya)
    passkey.user_verified = False
    response, _ = await authenticate(client, passkey)
    assert response.status_code == 400


async def test_a_changed_backup_eligibility_is_refused(client, priya):
    passkey = await registered(client, priya)
    passkey.backup_eligible = True
    response, _ = await authenticate(client, passkey)
    assert response.status_code == 400
    assert "backup" in response.json()["error"]


async def test_a_passkey_cannot_be_used_for_someone_else(client, priya):
    passkey = await registered(client, priya)
    passkey.user_handle = (999).to_bytes(8, "big")
    response, _ = await authenticate(client, passkey)
    assert response.status_code == 400


async def test_passkeys_can_be_renamed_and_are_private_to_their_owner(client, priya):
    await registered(client, priya)
    stored = await PasskeyCredential.get(practitioner=priya)
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, tom)
    token = await csrf_token(client, "/profile")
    assert (
        await client.post(
            f"/passkeys/{stored.id}/rename", data={"name": "Mine", "csrf_token": token}
        )
    ).status_code == 404
    assert (
        await client.post(f"/passkeys/{stored.id}/remove", data={"csrf_token": token})
    ).status_code == 404
    client.cookies.clear()
    await sign_in(client, priya)
    token = await csrf_token(client, "/profile")
    blank = await client.post(
        f"/passkeys/{stored.id}/rename", data={"name": " ", "csrf_token": token}
    )
    assert blank.status_code == 422 and "Enter a name for the passkey" in blank.text
    renamed = await client.post(
        f"/passkeys/{stored.id}/rename", data={"name": "Clinic tablet", "csrf_token": token}
    )
    assert renamed.status_code == 303
    assert "Clinic tablet" in (await client.get("/profile")).text


async def test_the_passkey_prompt_shows_after_an_email_sign_in_until_dismissed(client, priya):
    await sign_in(client, priya)
    assert "Sign in faster next time" in (await client.get("/")).text
    await client.post(
        "/passkeys/prompt/dismiss", data={"csrf_token": await csrf_token(client, "/")}
    )
    assert "Sign in faster next time" not in (await client.get("/")).text


async def test_a_hundred_failures_lock_passkey_sign_in_for_an_hour_but_not_email(client, priya):
    from web.core.signins import create_signin_token

    passkey = await registered(client, priya)
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR):
        await ratelimit.record_failure(priya.id)
    response, _ = await authenticate(client, passkey)
    assert response.status_code == 429
    assert "too many failed attempts" in response.json()["error"]
    assert "email" in response.json()["error"]  # says what still works
    token = await create_signin_token(priya)
    by_email = await client.post(
        "/signin/link", data={"token": token, "csrf_token": await csrf_token(client)}
    )
    assert by_email.status_code == 303  # a locked passkey never blocks recovery by email
    assert await Session.filter(method="passkey").count() == 0
    assert await Session.filter(method="email").count() == 2
    assert await AuditEvent.filter(action="signin.refused", actor_id=priya.id).count() == 1


def forged(credential_id: str, challenge: str | None) -> dict:
    """An answer naming someone's passkey, signed by nothing."""
    client_data = {"type": "webauthn.get", "challenge": challenge, "origin": ORIGIN}
    if challenge is None:
        client_data = {"garbage": True}
    return {
        "id": credential_id,
        "rawId": credential_id,
        "type": "public-key",
        "response": {
            "clientDataJSON": bytes_to_base64url(json.dumps(client_data).encode()),
            "authenticatorData": bytes_to_base64url(b"\0" * 37),
            "signature": bytes_to_base64url(b"\0" * 64),
        },
        "clientExtensionResults": {},
    }


async def test_answers_without_a_live_challenge_from_this_browser_charge_nobody(
    client, priya, settings
):
    """An anonymous stranger who knows Priya's credential id cannot charge her failures
    (and so lock her out) without a real, live challenge their own browser asked for."""
    passkey = await registered(client, priya)
    credential_id = (await PasskeyCredential.get(practitioner=priya)).credential_id
    headers = {"X-CSRF-Token": await csrf_token(client)}
    theirs = (await client.post("/passkeys/authenticate/options", headers=headers)).json()
    async with browser_at(settings, "198.51.100.9") as stranger:
        headers = {"X-CSRF-Token": await csrf_token(stranger)}
        spent = (await stranger.post("/passkeys/authenticate/options", headers=headers)).json()
        await stranger.post(
            "/passkeys/authenticate",
            json={"credential": forged(credential_id, spent["challenge"])},
            headers=headers,
        )  # spends it (and is charged: a real challenge was used)
        expired = (await stranger.post("/passkeys/authenticate/options", headers=headers)).json()
        await WebAuthnChallenge.filter(challenge=expired["challenge"]).update(
            expires_at=now() - timedelta(seconds=1)
        )
        challenges = [
            None,  # unreadable
            bytes_to_base64url(b"made up by the stranger"),
            theirs["challenge"],  # another browser's
            spent["challenge"],  # already used
            expired["challenge"],
        ]
        for n in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR + 1):
            answer = await stranger.post(
                "/passkeys/authenticate",
                json={"credential": forged(credential_id, challenges[n % len(challenges)])},
                headers=headers,
            )
            assert answer.status_code == 400
    assert await RateLimitHit.filter(key=f"signin:fail:{priya.id}").count() == 1
    assert not await ratelimit.account_locked(priya.id)
    signed_in, _ = await authenticate(client, passkey)
    assert signed_in.status_code == 200, signed_in.text
