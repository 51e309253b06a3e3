"""Error pages: the full page normally, just the error block for an htmx request."""

from __future__ import annotations

import errno
import logging
import re
import socket
from http import HTTPStatus
from urllib.parse import quote, unquote

import asyncpg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import BaseORMException, DBConnectionError

from web.core.render import page_or_block

log = logging.getLogger("patchwork")

TITLES = {
    400: "Something was wrong with that request",
    401: "Please sign in",
    403: "You cannot do that",
    404: "Page not found",
    405: "You cannot do that here",
    422: "Please check what you entered",
    429: "Too many requests",
    500: "Sorry, something went wrong",
    503: "Patchwork is briefly unavailable",
}
MESSAGES = {
    401: "Your session has ended. Sign in again to carry on.",
    404: "Check the address, or go back to your clients.",
    500: "The problem has been logged. Please try again in a few minutes.",
    503: "Patchwork cannot reach its database just now. Nothing you saved before is lost. "
    "Please try again in a minute.",
}

#: Seconds a 503 page asks clients to wait before trying again.
RETRY_AFTER = "30"


def error_page(
    request: Request,
    status_code: int,
    message: str = "",
    *,
    title: str = "",
    action_url: str = "",
    action_label: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    return page_or_block(
        request,
        "errors/error.html",
        {
            "status_code": status_code,
            "title": title or TITLES.get(status_code, "Something went wrong"),
            "message": message or MESSAGES.get(status_code, ""),
            "action_url": action_url,
            "action_label": action_label,
        },
        status_code=status_code,
        headers=headers,
    )


def too_many_requests(request: Request, message: str) -> Response:
    return error_page(request, 429, message, headers={"Retry-After": "3600"})


def too_many_searches(request: Request, limit: int) -> Response:
    """The hourly search limit, reached by searching or by opening clients' join pages."""
    return too_many_requests(
        request,
        f"You have searched for clients {limit} times in the last hour, the most Patchwork "
        "allows. This stops anyone browsing for people. Try again later, or call a colleague.",
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail != _default_phrase(exc.status_code) else ""
    return error_page(request, exc.status_code, detail, headers=dict(exc.headers or {}))


#: An invitation's token is in its path: a log keeps only that it was one.
INVITATION_TOKEN = re.compile(r"^/+invitations/+(?!\d+(?:/|$))[^/?]+", re.IGNORECASE)
#: So is a join code's: kept, it would be a way in for ten minutes.
JOIN_TOKEN = re.compile(r"^/+join/+[^/?]+", re.IGNORECASE)
#: And a family's card: kept, it would show a client's team to whoever read the log.
FAMILY_TOKEN = re.compile(r"^/+family/+[^/?]+", re.IGNORECASE)
#: What a logged path keeps as it is; the rest is percent-encoded again (a quote, a space, a
#: control or any other character would let a path write its own log line).
LOGGED_AS_IS = "/[]:@!$&'()*+,;=-._~"


def loggable_path(path: str) -> str:
    """A path as logs may keep it: no query string (search terms, sign-in tokens) and no
    token in an invitation's, a join code's or a family card's path. Every log that names a
    path uses it. It reads the path decoded, as the router does ("/%66amily/…" and
    "/family%2F…" open a card too), whatever its case."""
    path = unquote(path.split("?", 1)[0])
    path = INVITATION_TOKEN.sub("/invitations/[token]", path)
    path = FAMILY_TOKEN.sub("/family/[token]", path)
    return quote(JOIN_TOKEN.sub("/join/[token]", path), safe=LOGGED_AS_IS)


#: What a connection attempt's plain OSError carries (asyncio joins one per address tried
#: into "Multiple exceptions: ..."), as against a file's or a template's OSError, which is a bug.
_CONNECT_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ETIMEDOUT}


def _connect_failed(error: OSError) -> bool:
    text = str(error)
    return (
        error.errno in _CONNECT_ERRNOS or "Connect call failed" in text
        or text.startswith("Multiple exceptions")
    )  # fmt: skip


def database_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached: refused or
    dropped connections, a connect or statement timeout, a server shutting down."""
    outage = (
        ConnectionError,  # refused, reset, aborted, a broken pipe
        socket.gaierror,  # the database's host name does not resolve
        TimeoutError,
        DBConnectionError,
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.ConnectionDoesNotExistError,
        asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    )
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, outage):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True
        if type(current) is OSError and _connect_failed(current):
            return True
        current = current.__cause__ or current.__context__
    return False


async def unavailable(request: Request, exc: Exception) -> Response:
    """The database is down: a 503 page at once (with Retry-After), never a hang or a 500."""
    log.warning(
        "database unreachable on %s %s: %s: %s",
        request.method,
        loggable_path(request.url.path),
        type(exc).__name__,
        exc,
    )
    return error_page(request, 503, headers={"Retry-After": RETRY_AFTER})


class OutageGuard:
    """ASGI middleware around the session lookup and the routes: while the database is
    unreachable, answer the 503 page instead of letting the error reach the server (which
    would log it as a crash and drop the connection). Any other error passes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started or not database_unreachable(exc):
                raise
            response = await unavailable(Request(scope, receive), exc)
            await response(scope, receive, send)


async def database_error(request: Request, exc: Exception) -> Response:
    """A database error raised by a route: 503 when the database is unreachable, else 500."""
    if database_unreachable(exc):
        return await unavailable(request, exc)
    return await server_error(request, exc)


async def server_error(request: Request, exc: Exception) -> Response:
    if database_unreachable(exc):
        return await unavailable(request, exc)
    log.exception(
        "unhandled error on %s %s", request.method, loggable_path(request.url.path), exc_info=exc
    )
    return error_page(request, 500)


async def csrf_refused(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI app the security middleware calls for a forged or stale form."""
    request = Request(scope, receive)
    response = error_page(
        request,
        403,
        "This form was out of date or came from another site. Go back, reload the page and "
        "try again.",
    )
    await response(scope, receive, send)


def _default_phrase(status_code: int) -> str:
    return HTTPStatus(status_code).phrase


def _exception_handlers() -> dict[type[Exception], object]:
    # Raised in a route, these are handled where they are raised (not re-raised to the
    # server); raised in a middleware (the session's lookup), server_error sorts them.
    database = (BaseORMException, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)
    return {
        HTTPException: http_error,
        **dict.fromkeys(database, database_error),
        Exception: server_error,
    }


exception_handlers = _exception_handlers()
