"""Your clients: the dashboard, most urgent first, with what it suggests next (finishing
signup, the walkthrough, a passkey)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.core import cards
from web.core.auth import me, resume_path, signed_in
from web.core.budgets import PAGE, queries
from web.core.nudges import TOUR, should_offer_passkey, tour_step
from web.core.render import page_or_block

#: The orders on offer, as their links say them (cards.SORTS, the default first).
SORT_LABELS = {"urgent": "Urgent", "recent": "Recent", "name": "Name"}
#: What the cards may be narrowed to, everyone first.
SHOW_LABELS = {"all": "All", "attentions": "Open attentions"}


@dataclass(frozen=True)
class Choice:
    label: str
    href: str
    current: bool


def chosen(request: Request) -> tuple[str, str]:
    """The sort and filter asked for; anything unknown is the default, never an error."""
    sort = request.query_params.get("sort", "")
    show = request.query_params.get("show", "")
    return (
        sort if sort in cards.SORTS else cards.SORTS[0],
        show if show in SHOW_LABELS else "all",
    )


def address(sort: str, show: str) -> str:
    """The dashboard's address for this choice: the defaults leave the query out."""
    query = {
        key: value
        for key, value, default in (("sort", sort, cards.SORTS[0]), ("show", show, "all"))
        if value != default
    }
    return "/?" + urlencode(query) if query else "/"


def choices(sort: str, show: str) -> dict[str, list[Choice]]:
    """Plain links for each sort and filter, so both work without JavaScript."""
    return {
        "sorts": [Choice(label, address(s, show), s == sort) for s, label in SORT_LABELS.items()],
        "shows": [Choice(label, address(sort, s), s == show) for s, label in SHOW_LABELS.items()],
    }


@queries(PAGE)
@signed_in
async def your_clients(request: Request) -> Response:
    """The home page: cards for the teams you are on (after signup is finished)."""
    if (unfinished := resume_path(me(request))) is not None:
        return RedirectResponse(unfinished, status_code=303)
    tour = tour_step(request, me(request))
    values = {"tour": tour, "tour_steps": TOUR}
    if tour and request.headers.get("hx-request") and "tour" in request.query_params:
        return page_or_block(request, "clients/index.html", values, block="walkthrough")
    sort, show = chosen(request)
    mine = await cards.my_clients(
        me(request),
        sort=sort,
        only_attentions=show == "attentions",
        checkin_days=request.app.state.settings.checkin_days,
    )
    offer_passkey = should_offer_passkey(request)
    return page_or_block(
        request,
        "clients/index.html",
        {
            **values,
            "cards": mine,
            "offer_passkey": offer_passkey,
            "sort": sort,
            "show": show,
            **choices(sort, show),
        },
    )


routes = [
    Route("/", your_clients, methods=["GET"]),
]
