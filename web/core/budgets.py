"""How many SQL statements one request to a route may send, declared beside the route with
`@queries(n)`, and the count that enforces it.

Every route declares its budget (a test checks). Pages and fragments spend at most PAGE,
client search SEARCH, writes included: the session and the unread badge are one statement,
the audit event another, so a page has two left for what it shows. With the count switched on
(`start_counting()`, which the test suite does for every request it makes), a request that
sends more than its route's budget is added to `OVERSPENT`, and the test that made it fails.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from starlette.types import ASGIApp, Receive, Scope, Send

#: A page or fragment: the session (with the badge), the audit event, two for its content.
PAGE = 4
#: Client search: a page's four and the rate limit's.
SEARCH = 5

Endpoint = TypeVar("Endpoint", bound=Callable[..., object])

#: The statements of the request being served, where counting is on.
_sent: ContextVar[list[str] | None] = ContextVar("statements_sent", default=None)
#: What Tortoise logs for each statement it sends begins with one of these.
STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.I)


def queries(limit: int) -> Callable[[Endpoint], Endpoint]:
    """Declare the most SQL statements one request to this route sends."""

    def declare(endpoint: Endpoint) -> Endpoint:
        endpoint.queries = limit  # type: ignore[attr-defined]
        return endpoint

    return declare


def budget_of(endpoint: object) -> int | None:
    limit = getattr(endpoint, "queries", None)
    return limit if isinstance(limit, int) else None


@dataclass(frozen=True)
class Overspent:
    method: str
    path: str
    limit: int
    statements: list[str]

    def __str__(self) -> str:
        sent = "\n    ".join(s[:160] for s in self.statements)
        return (
            f"{self.method} {self.path}: {len(self.statements)} statements, budget "
            f"{self.limit}:\n    {sent}"
        )


class _Counter(logging.Handler):
    """Adds each statement Tortoise logs to the list of the request that sent it."""

    def emit(self, record: logging.LogRecord) -> None:
        sent = _sent.get()
        if sent is not None:
            message = record.getMessage()
            if STATEMENT.match(message):
                sent.append(message)


class BudgetCheck:
    """Counts the statements each request sends and notes those over their route's budget."""

    def __init__(self, app: ASGIApp, over: list[Overspent]) -> None:
        self.app = app
        self.over = over

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent: list[str] = []
        token = _sent.set(sent)
        try:
            await self.app(scope, receive, send)
        finally:
            _sent.reset(token)
            endpoint = scope.get("endpoint")
            limit = budget_of(endpoint)
            if endpoint is not None:
                own = getattr(endpoint, "__name__", type(endpoint).__name__)
                name = f"{endpoint.__module__}.{own}"
                MOST[name] = max(MOST.get(name, 0), len(sent))
            if limit is not None and len(sent) > limit:
                self.over.append(Overspent(scope["method"], scope["path"], limit, sent))


#: The most statements one request to each endpoint sent since counting started.
MOST: dict[str, int] = {}
#: Requests over budget since counting started, or None when it is off (it is, but in tests).
OVERSPENT: list[Overspent] | None = None


def checked(app: ASGIApp) -> ASGIApp:
    """`app`, counting each request's statements when counting is on."""
    return app if OVERSPENT is None else BudgetCheck(app, OVERSPENT)


def start_counting() -> list[Overspent]:
    """Count every request's statements from now on, in this process; returns `OVERSPENT`."""
    global OVERSPENT
    if OVERSPENT is None:
        OVERSPENT = []
    logger = logging.getLogger("tortoise.db_client")
    if not any(isinstance(h, _Counter) for h in logger.handlers):
        logger.addHandler(_Counter(logging.DEBUG))
    logger.setLevel(logging.DEBUG)
    return OVERSPENT
