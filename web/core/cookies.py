"""The cookies this app sets, and the CSRF token derived from one.

Kept apart from the security middleware so that rendering (every form carries the token) and
sessions (the session cookie) need nothing else from it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from web.core.settings import Settings


def csrf_token(request: Request) -> str:
    """The token this browser's pages must send back with every unsafe request, masked afresh
    for each page: compressed pages then never repeat a secret that reflected input could be
    matched against byte by byte (BREACH)."""
    return masked(token_for(request.app.state.settings, request.scope["state"]["csrf_cookie"]))


def token_for(settings: Settings, cookie_value: str) -> str:
    """The CSRF token of a cookie. "csrf:" keeps it apart from every other keyed hash of
    `SECRET_KEY`: the cookie is the browser's to choose, so without it this would sign any
    message anyone asked for (a family card's token, say)."""
    message = f"csrf:{cookie_value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def masked(token: str) -> str:
    """A random pad, then the token XORed with it, in hex: a different string each time."""
    secret = bytes.fromhex(token)
    pad = secrets.token_bytes(len(secret))
    return (pad + _xor(pad, secret)).hex()


def unmasked(sent: str) -> str:
    """The token a masked one carries, or "" for anything that is not one."""
    try:
        raw = bytes.fromhex(sent)
    except ValueError:
        return ""
    if len(raw) % 2:
        return ""
    half = len(raw) // 2
    return _xor(raw[:half], raw[half:]).hex()


def _xor(pad: bytes, data: bytes) -> bytes:
    """`pad` XOR `data`, two byte strings of one length."""
    return (int.from_bytes(pad) ^ int.from_bytes(data)).to_bytes(len(pad))  # big-endian


def cookie_header(settings: Settings, name: str, value: str, max_age: int | None = None) -> str:
    """A Set-Cookie value with this deployment's flags (Secure in production)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if settings.production:
        parts.append("Secure")
    return "; ".join(parts)


#: "on" while this device's privacy screen shows clients' names as initials (Profile). It holds
#: nothing else, so nothing personal: templates/macros/privacy.html reads it by this name.
PRIVACY_SCREEN = "privacy_screen"
#: A choice of the device, not of one session: it outlasts signing out and in again.
PRIVACY_SCREEN_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie


def privacy_screen_cookie(settings: Settings, on: bool) -> str:
    """The Set-Cookie value that turns this device's privacy screen on, or deletes it."""
    if on:
        return cookie_header(settings, PRIVACY_SCREEN, "on", PRIVACY_SCREEN_MAX_AGE)
    return cookie_header(settings, PRIVACY_SCREEN, "", 0)
