"""Your clients: the dashboard, with what it suggests next (finishing signup, the walkthrough,
a passkey)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.core import access
from web.core.auth import me, resume_path, signed_in
from web.core.budgets import queries
from web.core.nudges import TOUR, should_offer_passkey, tour_step
from web.core.render import page_or_block


@queries(5)
@signed_in
async def your_clients(request: Request) -> Response:
    """The home page: cards for the teams you are on (after signup is finished)."""
    if (unfinished := resume_path(me(request))) is not None:
        return RedirectResponse(unfinished, status_code=303)
    tour = tour_step(request, me(request))
    values = {"tour": tour, "tour_steps": TOUR}
    if tour and request.headers.get("hx-request") and "tour" in request.query_params:
        return page_or_block(request, "clients/index.html", values, block="walkthrough")
    cards = await access.my_clients(me(request))
    offer_passkey = should_offer_passkey(request)
    return page_or_block(
        request,
        "clients/index.html",
        {**values, "cards": cards, "offer_passkey": offer_passkey},
    )


# -- finding clients --------------------------------------------------------------------------


# -- adding a client --------------------------------------------------------------------------


routes = [
    Route("/", your_clients, methods=["GET"]),
]
