"""Passkeys (WebAuthn, py_webauthn): register several, sign in with one, rename, remove.

Challenges are single-use, live 5 minutes and are bound to the browser that asked for them
(the SHA-256 of its CSRF cookie, which exists before sign-in). Credentials are discoverable
and user verification is required, so a passkey alone is enough to sign in.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import webauthn
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models.auth import PasskeyCredential, WebAuthnChallenge
from models.practitioners import Practitioner
from web.core import audit, ratelimit
from web.core.auth import me, now, public, safe_next, signed_in, signing_up
from web.core.budgets import PAGE, queries
from web.core.settings import Settings
from web.core.signins import complete_signin, refuse_signin

CHALLENGE_LIFETIME = timedelta(minutes=5)
REQUIRED = UserVerificationRequirement.REQUIRED


class PasskeyRefused(Exception):
    """The browser's answer cannot be accepted; the message is safe to show."""


def user_handle(practitioner_id: int) -> bytes:
    """The WebAuthn user id: an opaque number, never an email or a name."""
    return practitioner_id.to_bytes(8, "big")


def browser_binding(request: Request) -> str:
    return hashlib.sha256(request.scope["state"]["csrf_cookie"].encode()).hexdigest()


async def new_challenge(
    request: Request, purpose: str, practitioner: Practitioner | None = None
) -> bytes:
    challenge = webauthn.helpers.generate_challenge()
    await WebAuthnChallenge.create(
        binding=browser_binding(request),
        challenge=bytes_to_base64url(challenge),
        purpose=purpose,
        practitioner=practitioner,
        expires_at=now() + CHALLENGE_LIFETIME,
    )
    return challenge


async def spend_challenge(
    request: Request, credential: dict[str, Any], purpose: str, practitioner_id: int | None = None
) -> bytes:
    """The challenge this answer signed, if this browser asked for it, in time, and only once."""
    try:
        client_data = parse_client_data_json(
            base64url_to_bytes(credential["response"]["clientDataJSON"])
        )
    except (KeyError, TypeError, ValueError, WebAuthnException) as error:
        raise PasskeyRefused("The passkey's answer could not be read.") from error
    text = bytes_to_base64url(client_data.challenge)
    spent = await WebAuthnChallenge.filter(
        challenge=text,
        purpose=purpose,
        binding=browser_binding(request),
        practitioner_id=practitioner_id,
        used_at__isnull=True,
        expires_at__gt=now(),
    ).update(used_at=now())
    if not spent:
        raise PasskeyRefused("That passkey request has expired or was already used. Try again.")
    return client_data.challenge


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise HTTPException(422, "Expected a JSON object.")
    return body


# -- signing in -------------------------------------------------------------------------------


@queries(PAGE)
@public
async def authentication_options(request: Request) -> Response:
    """Options for navigator.credentials.get (button or autofill), for any passkey here."""
    settings: Settings = request.app.state.settings
    challenge = await new_challenge(request, "authenticate")
    options = webauthn.generate_authentication_options(
        rp_id=settings.rp_id, challenge=challenge, user_verification=REQUIRED
    )
    return Response(webauthn.options_to_json(options), media_type="application/json")


@queries(7)
@public
async def authenticate(request: Request) -> Response:
    """Verify a passkey's answer and sign its practitioner in."""
    settings: Settings = request.app.state.settings
    body = await read_json(request)
    credential = body.get("credential")
    stored: PasskeyCredential | None = None
    # Anyone can name someone's credential id; only an answer to a live challenge this browser
    # asked for is an attempt on the account, charged to it (so nobody can charge failures
    # to lock a colleague out without doing the real ceremony, one challenge each).
    charge = False
    try:
        if not isinstance(credential, dict):
            raise PasskeyRefused("The passkey's answer could not be read.")
        stored = await PasskeyCredential.get_or_none(
            credential_id=str(credential.get("id", ""))
        ).select_related("practitioner")
        challenge = await spend_challenge(request, credential, "authenticate")
        charge = True
        if stored is None:
            raise PasskeyRefused("This passkey is not registered with Patchwork any more.")
        if await ratelimit.account_locked(stored.practitioner.id):
            return await refuse_locked(request, stored.practitioner.id)
        handle = credential.get("response", {}).get("userHandle")
        if handle and base64url_to_bytes(handle) != user_handle(stored.practitioner.id):
            raise PasskeyRefused("This passkey belongs to someone else.")
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count,
            require_user_verification=True,
        )
        eligible = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
        if eligible != stored.backup_eligible:
            raise PasskeyRefused("This passkey's backup state changed: it cannot be trusted.")
        if not stored.practitioner.active:
            raise PasskeyRefused("This account has been deactivated.")
    except (PasskeyRefused, WebAuthnException, KeyError, TypeError, ValueError) as error:
        message = str(error) if isinstance(error, PasskeyRefused) else "That passkey did not work."
        owner = stored.practitioner.id if stored else None
        await refuse_signin(request, owner, "passkey", str(error)[:200], charge=charge)
        return JSONResponse({"error": message}, status_code=400)
    stored.sign_count = verified.new_sign_count
    stored.backed_up = verified.credential_backed_up
    stored.last_used_at = now()
    await stored.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    target = safe_next(body.get("next"))
    response = JSONResponse({"redirect": target})
    return await complete_signin(request, stored.practitioner, "passkey", response)


LOCKED_MESSAGE = (
    "There have been too many failed attempts to sign in to this account with a passkey. "
    "For your safety, wait an hour and try again, or sign in with an email link."
)


async def refuse_locked(request: Request, practitioner_id: int) -> Response:
    """More than ratelimit.ACCOUNT_FAILURES_PER_HOUR failures: no passkey sign-in for the rest
    of the hour (not even a good one, so the lock is no oracle). Emailed links still work."""
    await audit.record(
        request,
        "signin.refused",
        actor_id=practitioner_id,
        method="passkey",
        reason="too many failures",
    )
    return JSONResponse({"error": LOCKED_MESSAGE}, status_code=429, headers={"Retry-After": "3600"})


# -- managing passkeys ------------------------------------------------------------------------


@queries(PAGE)
@signing_up  # step 5 of signup creates a passkey
async def registration_options(request: Request) -> Response:
    """Options for navigator.credentials.create: a discoverable, user-verified passkey."""
    settings: Settings = request.app.state.settings
    practitioner = me(request)
    existing = await PasskeyCredential.filter(practitioner=practitioner)
    challenge = await new_challenge(request, "register", practitioner)
    options = webauthn.generate_registration_options(
        rp_id=settings.rp_id,
        rp_name="Patchwork",
        user_id=user_handle(practitioner.id),
        user_name=practitioner.email,
        user_display_name=practitioner.name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=REQUIRED
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
        ],
    )
    return Response(webauthn.options_to_json(options), media_type="application/json")


#: The transports WebAuthn names (py_webauthn's AuthenticatorTransport).
KNOWN_TRANSPORTS = tuple(t.value for t in AuthenticatorTransport)


def known_transports(credential: dict[str, Any]) -> list[str]:
    """The known transports the browser listed (`response.transports`, a list of strings;
    missing is none), in order, once each; unknown strings are dropped, as WebAuthn asks of a
    relying party. Anything else is refused, before the challenge is spent."""
    response = credential.get("response")
    transports = response.get("transports") if isinstance(response, dict) else None
    if transports is None:
        return []
    if not isinstance(transports, list) or not all(isinstance(t, str) for t in transports):
        raise PasskeyRefused("The passkey's answer could not be read.")
    return list(dict.fromkeys(t for t in transports if t in KNOWN_TRANSPORTS))


@queries(5)
@signing_up
async def register(request: Request) -> Response:
    """Verify a new passkey and keep it."""
    settings: Settings = request.app.state.settings
    practitioner = me(request)
    body = await read_json(request)
    credential = body.get("credential")
    try:
        if not isinstance(credential, dict):
            raise PasskeyRefused("The passkey's answer could not be read.")
        transports = known_transports(credential)
        challenge = await spend_challenge(request, credential, "register", practitioner.id)
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=settings.origin,
            require_user_verification=True,
        )
    except (PasskeyRefused, WebAuthnException, KeyError, TypeError, ValueError) as error:
        message = str(error) if isinstance(error, PasskeyRefused) else "That passkey did not work."
        await audit.record(request, "passkey.refused", reason=str(error)[:200])
        return JSONResponse({"error": message}, status_code=400)
    count = await PasskeyCredential.filter(practitioner=practitioner).count()
    name = str(body.get("name") or "").strip()[:80] or f"Passkey {count + 1}"
    passkey = await PasskeyCredential.create(
        practitioner=practitioner,
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
        transports=transports,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up,
    )
    await audit.record(request, "passkey.registered", passkey_id=passkey.id)
    next_path = safe_next(body.get("next")) if body.get("next") else "/profile#passkeys"
    return JSONResponse({"redirect": next_path})


@queries(PAGE)
@signed_in
async def dismiss_prompt(request: Request) -> Response:
    """ "Not now" on the create-a-passkey prompt: do not ask again."""
    practitioner = me(request)
    if "passkey-prompt" not in practitioner.dismissed_banners:
        practitioner.dismissed_banners = [*practitioner.dismissed_banners, "passkey-prompt"]
        await practitioner.save(update_fields=["dismissed_banners"])
    return RedirectResponse("/", status_code=303)


routes = [
    Route("/passkeys/authenticate/options", authentication_options, methods=["POST"]),
    Route("/passkeys/authenticate", authenticate, methods=["POST"]),
    Route("/passkeys/register/options", registration_options, methods=["POST"]),
    Route("/passkeys/register", register, methods=["POST"]),
    Route("/passkeys/prompt/dismiss", dismiss_prompt, methods=["POST"]),
]
