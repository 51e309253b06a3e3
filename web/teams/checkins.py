"""The check-in page: "Still involved" or leave the team (the rules: web/core/checkins.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.teams import Membership
from web.core import access, audit
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.render import page_or_block
from web.teams.team import team_or_refusal


@queries(PAGE)
@signed_in
async def checkin_page(request: Request) -> Response:
    """One tap: still involved, or leave the team."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    return page_or_block(request, "teams/checkin.html", {"client": client})


@queries(5)
@signed_in
async def confirm(request: Request) -> Response:
    """ "Still involved": the involvement is confirmed for another cycle."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    await Membership.filter(
        access.current(), client_id=client.id, practitioner_id=me(request).id
    ).update(last_confirmed_at=now())
    await audit.record(request, "team.confirmed", client_id=client.id, area_id=client.area_id)
    return RedirectResponse(f"/clients/{client.id}?done=confirmed", status_code=303)


routes = [
    Route("/clients/{client_id:int}/checkin", checkin_page, methods=["GET"]),
    Route("/clients/{client_id:int}/checkin", confirm, methods=["POST"]),
]
