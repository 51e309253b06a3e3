"""Your clients: the dashboard, with what it suggests next (finishing signup, the walkthrough,
a passkey)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.core import cards
from web.core.auth import me, resume_path, signed_in
from web.core.budgets import PAGE, queries
from web.core.nudges import TOUR, should_offer_passkey, tour_step
from web.core.render import page_or_block


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
    mine = await cards.my_clients(me(request))
    offer_passkey = should_offer_passkey(request)
    return page_or_block(
        request,
        "clients/index.html",
        {**values, "cards": mine, "offer_passkey": offer_passkey},
    )


# -- finding clients --------------------------------------------------------------------------


# -- adding a client --------------------------------------------------------------------------


routes = [
    Route("/", your_clients, methods=["GET"]),
]
