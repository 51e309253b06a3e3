"""The cookies this app sets, and the CSRF token derived from one.

Kept apart from the security middleware so that rendering (every form carries the token) and
sessions (the session cookie) need nothing else from it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from web.core.settings import Settings


def csrf_token(request: Request) -> str:
    """The token this browser's pages must send back with every unsafe request."""
    return token_for(request.app.state.settings, request.scope["state"]["csrf_cookie"])


def token_for(settings: Settings, cookie_value: str) -> str:
    return hmac.new(settings.secret_key.encode(), cookie_value.encode(), hashlib.sha256).hexdigest()


def cookie_header(settings: Settings, name: str, value: str, max_age: int | None = None) -> str:
    """A Set-Cookie value with this deployment's flags (Secure in production)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if settings.production:
        parts.append("Secure")
    return "; ".join(parts)
