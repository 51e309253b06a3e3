"""Server-side sessions, and the decorators every route carries: `public` or `signed_in`.

The cookie holds a 256-bit random token; the database keeps only its SHA-256, so
a leaked database cannot be replayed as sessions.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise.transactions import in_transaction

from models.auth import Session
from models.practitioners import Practitioner
from web.core.clock import now
from web.core.cookies import cookie_header
from web.core.sessions import read_session
from web.core.settings import Settings

Endpoint = Callable[[Request], Awaitable[Response]]
#: Refresh last_seen_at at most this often: one write per few minutes, not per request.
TOUCH_EVERY = timedelta(minutes=5)
#: Removing a passkey (and, later, any administrative change) needs a sign-in this recent.
REAUTH_WINDOW = timedelta(minutes=15)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthMiddleware:
    """Loads the signed-in practitioner, their organisation, unread count and passkey flag (one
    statement) into request.state, or None."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope.setdefault("state", {})
            state["practitioner"], state["session"] = None, None
            state["unread"], state["has_passkey"] = 0, False
            state["directory_version"] = None  # unknown: web/core/services.py reads afresh
            await self._load(Headers(scope=scope), state)
        await self.app(scope, receive, send)

    async def _load(self, headers: Headers, state: dict[str, Any]) -> None:
        morsel = SimpleCookie(headers.get("cookie")).get(self.settings.session_cookie)
        if morsel is None or not morsel.value:
            return
        found = await read_session(token_hash(morsel.value))
        if found is None:
            return
        session = found.session
        moment = now()
        idle = timedelta(hours=self.settings.session_idle_hours)
        absolute = timedelta(days=self.settings.session_absolute_days)
        if (
            not session.practitioner.active
            or moment - session.last_seen_at > idle
            or moment - session.created_at > absolute
        ):
            await Session.filter(id=session.id).delete()
            return
        if moment - session.last_seen_at > TOUCH_EVERY:
            session.last_seen_at = moment
            await Session.filter(id=session.id).update(last_seen_at=moment)
        state["practitioner"], state["session"] = session.practitioner, session
        state["unread"], state["has_passkey"] = found.unread, found.has_passkey
        state["directory_version"] = found.directory_version


async def start_session(
    request: Request, response: Response, practitioner: Practitioner, method: str
) -> Session:
    """Sign in: a fresh session id every time, replacing any session this browser had."""
    settings: Settings = request.app.state.settings
    old: Session | None = request.state.session
    if old is not None:
        await old.delete()
    token = secrets.token_urlsafe(32)
    moment = now()
    session = await Session.create(
        token_hash=token_hash(token),
        practitioner=practitioner,
        created_at=moment,
        last_seen_at=moment,
        authenticated_at=moment,
        method=method,
        user_agent=request.headers.get("user-agent", "")[:300],
    )
    max_age = int(settings.session_absolute_days * 86400)
    response.headers.append(
        "Set-Cookie", cookie_header(settings, settings.session_cookie, token, max_age)
    )
    await Practitioner.filter(id=practitioner.id).update(last_seen_at=moment)
    return session


async def deactivate(practitioner: Practitioner) -> int:
    """Stop a practitioner signing in, and end every session they have, at once."""
    async with in_transaction():
        await Practitioner.filter(id=practitioner.id).update(active=False)
        ended = await Session.filter(practitioner_id=practitioner.id).delete()
    practitioner.active = False
    return ended


def clear_session_cookie(settings: Settings, response: Response) -> None:
    response.headers.append("Set-Cookie", cookie_header(settings, settings.session_cookie, "", 0))


def public(endpoint: Endpoint) -> Endpoint:
    """Mark a route as open to anonymous visitors (the route inventory test reads this)."""
    endpoint.public = True  # type: ignore[attr-defined]
    return endpoint


def signing_up(endpoint: Endpoint) -> Endpoint:
    """For the few routes signup itself needs (its questions, creating a passkey, alerts):
    any signed-in, active practitioner, finished signing up or not."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if request.state.practitioner is None:
            return refuse_anonymous(request)
        return await endpoint(request)

    guarded.during_signup = True  # type: ignore[attr-defined]
    return guarded


def signed_in(endpoint: Endpoint) -> Endpoint:
    """Only for a signed-in, active practitioner who has finished signing up: pages redirect
    to sign-in (or back to signup), the rest get 401 (or 403). A route is closed to
    unfinished signups unless it says `signing_up` instead, so a new route is by default."""

    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        practitioner: Practitioner | None = request.state.practitioner
        if practitioner is None:
            return refuse_anonymous(request)
        if not practitioner.signed_up:
            return refuse_unfinished(request, practitioner)
        return await endpoint(request)

    return guarded


def requires_role(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Only for practitioners holding one of `roles` (checked on the server, every request)."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            practitioner = request.state.practitioner
            if practitioner is None:
                return refuse_anonymous(request)
            if practitioner.role not in roles:
                raise HTTPException(403, "This page is for administrators.")
            return await endpoint(request)

        guarded.roles = roles  # type: ignore[attr-defined]
        return signed_in(guarded)

    return decorate


def wants_page(request: Request) -> bool:
    """A plain page load (which a redirect suits), not a form post, fragment or JSON call."""
    return (
        request.method == "GET"
        and "hx-request" not in request.headers
        and "application/json" not in request.headers.get("accept", "")
    )


def refuse_anonymous(request: Request) -> Response:
    """A page redirects to sign-in; htmx gets the 401 with `HX-Redirect` to sign-in, so a
    session that ended while a page was open goes to sign-in instead of swapping the error
    into the layout; anything else (JSON, a form post without htmx) gets the 401 page."""
    if wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
    headers = {}
    if "hx-request" in request.headers:
        headers["HX-Redirect"] = f"/signin?next={quote(page_shown(request), safe='')}"
    raise HTTPException(401, "Please sign in again.", headers=headers)


def page_shown(request: Request) -> str:
    """The page an htmx request came from (its `HX-Current-URL`), as a safe local path."""
    try:
        shown = urlsplit(request.headers.get("hx-current-url", ""))
    except ValueError:  # a malformed header: back to the start after signing in
        return "/"
    return safe_next(shown.path + (f"?{shown.query}" if shown.query else ""))


def resume_path(practitioner: Practitioner) -> str | None:
    """Where an unfinished signup continues, or None once the questions are answered."""
    if practitioner.signed_up:
        return None
    return f"/signup/{practitioner.signup_step + 1}"


def refuse_unfinished(request: Request, practitioner: Practitioner) -> Response:
    """Someone still signing up (no name yet, perhaps) may not search, join or look anyone up."""
    resume = resume_path(practitioner) or "/"
    if wants_page(request):
        return RedirectResponse(resume, status_code=303)
    raise HTTPException(
        403,
        "Finish signing up first: answer the last few questions, then you can carry on.",
        headers={"HX-Redirect": resume} if "hx-request" in request.headers else None,
    )


def me(request: Request) -> Practitioner:
    """The signed-in practitioner, for routes behind `signed_in`."""
    practitioner: Practitioner = request.state.practitioner
    return practitioner


#: A longer target is refused rather than stored (SignInToken.next_path is 300 characters).
MAX_NEXT = 300
#: Percent-decoding layers undone before a target is judged; more than this is refused.
MAX_DECODINGS = 4


def safe_next(target: Any) -> str:
    """Where to go after signing in: a same-origin path, or "/". Every flow calls this."""
    # Browsers drop tabs and newlines from a URL and read "\\" as "/", and a target is
    # decoded again on its way (query string, form field, stored link), so "/%09/evil.example"
    # or "/\\evil.example" would reach another site.
    # So the target is judged fully decoded: no control, whitespace or backslash anywhere,
    # no scheme or host, and exactly one "/" first.
    if not isinstance(target, str) or len(target) > MAX_NEXT:
        return "/"
    decoded = target
    for _ in range(MAX_DECODINGS):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    else:
        return "/"
    if any(_unsafe_character(c) for c in decoded):
        return "/"
    if not (_one_local_path(target) and _one_local_path(decoded)):
        return "/"
    return target


def _unsafe_character(c: str) -> bool:
    return c == "\\" or c.isspace() or unicodedata.category(c)[0] in "CZ"


def _one_local_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//"):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. a host that NFKC-normalises to something else
        return False
    return not (parts.scheme or parts.netloc)
