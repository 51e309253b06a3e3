"""Involvement check-ins: every membership is confirmed every CHECKIN_DAYS (default 90).

The worker asks each practitioner once per cycle ("Still involved" or "Leave team"). A
membership still unconfirmed teams.GRACE_DAYS later shows "not confirmed since …" to the
team, and the team is told once.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import F, Q

from models.teams import Membership
from web.core import access, audit
from web.core.alerts import alert, tell_team
from web.core.auth import me, now, signed_in
from web.core.render import page_or_block
from web.core.settings import Settings
from web.teams.team import lapsed_before, team_or_refusal


async def ask_for_checkins(settings: Settings) -> int:
    """Alert each practitioner whose involvement is due for confirmation (once per cycle)."""
    due = (
        await Membership.filter(
            access.current(), last_confirmed_at__lt=now() - timedelta(days=settings.checkin_days)
        )
        .filter(
            Q(checkin_requested_at__isnull=True)
            | Q(checkin_requested_at__lt=F("last_confirmed_at"))
        )
        .select_related("practitioner")
    )
    for membership in due:
        await alert(
            settings,
            [membership.practitioner],
            "checkin_due",
            client_id=membership.client_id,
            actor_id=None,
            url=f"/clients/{membership.client_id}/checkin",
        )
        await Membership.filter(id=membership.id).update(checkin_requested_at=now())
    return len(due)


async def tell_teams_about_lapses(settings: Settings) -> int:
    """Tell each team, once, that a (visible) member has not confirmed their involvement."""
    lapsed = (
        await Membership.filter(access.current(), last_confirmed_at__lt=lapsed_before(settings))
        .filter(Q(lapse_alerted_at__isnull=True) | Q(lapse_alerted_at__lt=F("last_confirmed_at")))
        .select_related("practitioner")
    )
    for membership in lapsed:
        if not membership.discreet:
            await tell_team(
                settings,
                membership.client_id,
                membership.practitioner,
                "membership_lapsed",
                f"/clients/{membership.client_id}",
            )
        await Membership.filter(id=membership.id).update(lapse_alerted_at=now())
    return len(lapsed)


@signed_in
async def checkin_page(request: Request) -> Response:
    """One tap: still involved, or leave the team."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    return page_or_block(request, "teams/checkin.html", {"client": client})


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
