"""Security headers on every response, and CSRF protection on every unsafe request.

CSRF uses a signed double submit: a random HttpOnly cookie, and a token derived
from it with HMAC(SECRET_KEY) that pages carry, masked afresh for each page (so a
compressed page never repeats it), in forms (`csrf_token`, URL-encoded or multipart)
and in a `<meta>` that static/app.js copies into htmx requests (`X-CSRF-Token`). A
request from another origin is refused too (Origin / Sec-Fetch-Site). A body over
`inputs.MAX_BODY_BYTES` is refused (413) before the CSRF check reads it.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.core import inputs
from web.core.cookies import cookie_header, token_for, unmasked
from web.core.settings import Settings

SAFE_METHODS = inputs.SAFE_METHODS

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ]
)


async def sent_token(scope: Scope, headers: Headers, body: bytes) -> str | None:
    """The CSRF token a request carries: its header (htmx), or its form's `csrf_token` field,
    URL-encoded or multipart (a file upload without JavaScript)."""
    sent = headers.get("x-csrf-token")
    kind = headers.get("content-type", "")
    if sent is not None:
        return sent
    if kind.startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode("latin-1")).get("csrf_token", [None])[0]
    if not kind.startswith("multipart/form-data"):
        return None
    try:
        form = await Request(scope, inputs.replay(body)).form()
    except (MultiPartException, HTTPException):
        return None
    field = form.get("csrf_token")
    await form.close()
    return field if isinstance(field, str) else None


class SecurityMiddleware:
    """Adds the security headers, sets the CSRF cookie, and refuses forged requests."""

    def __init__(self, app: ASGIApp, settings: Settings, refuse: ASGIApp) -> None:
        self.app = app
        self.settings = settings
        #: Renders the 403 page for a refused request.
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = SimpleCookie(headers.get("cookie", ""))
        existing = cookies.get(self.settings.csrf_cookie)
        cookie_value = existing.value if existing else secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_cookie"] = cookie_value
        send = self._with_headers(send, set_cookie=None if existing else cookie_value)

        if scope["method"] not in SAFE_METHODS:
            body = await inputs.read_body(scope, receive)
            if body is None:
                # Before the CSRF check: an oversized form is not an out-of-date one.
                await inputs.refuse(scope, send, inputs.TOO_LARGE)
                return
            sent = await sent_token(scope, headers, body)
            if not self._allowed(headers, sent, cookie_value if existing else None):
                await self.refuse(scope, inputs.replay(b""), send)
                return
            receive = inputs.replay(body)
        await self.app(scope, receive, send)

    def _allowed(self, headers: Headers, sent: str | None, cookie_value: str | None) -> bool:
        origin = headers.get("origin")
        if origin is not None and origin != self.settings.origin:
            return False
        if headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
            return False
        if cookie_value is None:
            return False
        return sent is not None and hmac.compare_digest(
            unmasked(sent), token_for(self.settings, cookie_value)
        )

    def _with_headers(self, send: Send, set_cookie: str | None) -> Send:
        settings = self.settings

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                # A page with a secret in its address (the family's card) asks for none.
                if "referrer-policy" not in headers:
                    headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                headers["X-Frame-Options"] = "DENY"
                if "cache-control" not in headers:
                    # Anything not marked cacheable may hold personal data: never store it.
                    headers["Cache-Control"] = "no-store"
                if settings.production:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
                if set_cookie is not None:
                    headers.append(
                        "Set-Cookie", cookie_header(settings, settings.csrf_cookie, set_cookie)
                    )
            await send(message)

        return send_with_headers
