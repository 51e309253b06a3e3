"""Involvement check-ins: every membership is confirmed every CHECKIN_DAYS (default 90).

The worker asks each practitioner once per cycle ("Still involved" or "Leave team"). A
membership still unconfirmed GRACE_DAYS later shows "not confirmed since …" to the team, and
the team is told once (never of a discreet member). The page that asks is
web/teams/checkins.py.
"""

from __future__ import annotations

from datetime import timedelta

from tortoise.expressions import F, Q

from models.teams import Membership
from web.core import access
from web.core.access import lapsed_before
from web.core.alerts import alert, tell_team
from web.core.clock import now
from web.core.settings import Settings


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
