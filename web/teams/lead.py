"""Choosing the lead professional: the page that shows who may lead, and the form that
records who the team agreed on (the rules are web/core/lead.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.clients import Client
from models.teams import Membership
from web.core.access import lead_of, may_lead
from web.core.auth import signed_in
from web.core.budgets import PAGE, queries
from web.core.lead import name_lead
from web.core.render import page_or_block
from web.teams.team import discreet_refusal, mine, team_or_refusal

#: The form's value for "no lead professional for now".
NOBODY = "none"


def _discreet_refusal(request: Request, client: Client) -> Response:
    return discreet_refusal(
        request, client, "Naming the lead professional", "Only visible members can name the lead"
    )


def _page(
    request: Request, client: Client, team: list[Membership], error: str, status: int
) -> Response:
    candidates = [m for m in team if may_lead(m)]
    return page_or_block(
        request,
        "teams/lead.html",
        {
            "client": client,
            "candidates": candidates,
            "lead": lead_of(team),
            "mine": mine(request, team),
            "nobody": NOBODY,
            "errors": {"member": error} if error else {},
            "tab": "team",
        },
        status_code=status,
    )


@queries(PAGE)
@signed_in
async def lead_form(request: Request) -> Response:
    """Who leads: every visible member, the current lead ticked."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    if not may_lead(mine(request, team)):
        return _discreet_refusal(request, client)
    return _page(request, client, team, "", 200)


@queries(15)
@signed_in
async def choose_lead(request: Request) -> Response:
    """Record the lead the team agreed on (or none for now); History and an alert tell the
    team."""
    found = await team_or_refusal(request, record_view=False)  # the change is audited
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    if not may_lead(own):
        return _discreet_refusal(request, client)
    wanted = str((await request.form()).get("member", ""))
    candidates = {str(m.practitioner_id): m for m in team if may_lead(m)}  # type: ignore[attr-defined]
    if wanted != NOBODY and wanted not in candidates:
        error = "Choose a member of the team, or no lead professional for now"
        return _page(request, client, team, error, 422)
    chosen = candidates.get(wanted)
    if not await name_lead(request, client, own, lead_of(team), chosen):
        current = lead_of(team)
        if (current and current.id) == (chosen and chosen.id):  # no change was asked for
            return RedirectResponse(f"/clients/{client.id}", status_code=303)
        refreshed = await team_or_refusal(request, record_view=False)
        team = refreshed[1] if not isinstance(refreshed, Response) else team
        error = "Someone on the team changed the lead a moment ago. Check who it is now."
        return _page(request, client, team, error, 409)
    return RedirectResponse(f"/clients/{client.id}?done=lead", status_code=303)


routes = [
    Route("/clients/{client_id:int}/lead", lead_form, methods=["GET"]),
    Route("/clients/{client_id:int}/lead", choose_lead, methods=["POST"]),
]
