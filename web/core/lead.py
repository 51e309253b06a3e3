"""The lead professional: the team's agreed main contact for the child and family.

One visible current member at most (a partial unique index holds it). Any visible member may
record who the team agreed on, themself or another visible member, or that there is none for
now. A discreet member can neither be lead nor name one: either would show the team they are
there. The lead ends with their membership, so a lead who leaves (or goes discreet, which the
team must read as leaving) leaves the team without one, visibly, until another is agreed.
Every change is a TeamEvent (History), an audit event and an alert, in one transaction.
"""

from __future__ import annotations

from starlette.requests import Request
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership, TeamEvent
from web.core import audit, auth, db
from web.core.access import may_lead
from web.core.alerts import tell_team, tell_team_once
from web.core.clock import now
from web.core.settings import Settings


async def name_lead(
    request: Request,
    client: Client,
    actor: Membership,
    previous: Membership | None,
    chosen: Membership | None,
) -> bool:
    """Record `chosen` as the lead in place of `previous` (None: no lead for now). False when
    nothing changed: no change was asked for, or someone else changed the lead first (the
    unique index refuses a second current lead, and this transaction rolls back whole)."""
    assert may_lead(actor) and (chosen is None or may_lead(chosen))
    if (previous and previous.id) == (chosen and chosen.id):
        return False
    try:
        async with in_transaction() as connection:
            # One change of lead at a time (SQLite has one writer). NO KEY: a join or a member
            # going discreet inserts a membership, whose key check must not wait on this.
            if db.dialect() == "postgres":
                await connection.execute_query(
                    "SELECT id FROM client WHERE id = $1 FOR NO KEY UPDATE", [client.id]
                )
            held = await Membership.filter(
                client_id=client.id, ended_at__isnull=True, lead=True
            ).values_list("id", flat=True)
            if (held[0] if held else None) != (previous and previous.id):
                raise _Gone  # someone changed the lead since this member looked
            if held:
                await Membership.filter(id=held[0]).update(lead=False)
            if chosen is not None and not await Membership.filter(
                id=chosen.id, ended_at__isnull=True, discreet=False
            ).update(lead=True):
                raise _Gone  # they left (or went discreet) a moment ago
            await _recorded(request, client, actor, previous, chosen)
    except (IntegrityError, _Gone):
        return False
    return True


class _Gone(Exception):
    """The lead changed, or the member chosen left, since the page was read (rolls back)."""


async def _recorded(
    request: Request,
    client: Client,
    actor: Membership,
    previous: Membership | None,
    chosen: Membership | None,
) -> None:
    """History, the audit trail and the team's alert for a change of lead."""
    subject = chosen or previous
    kind = "lead_named" if chosen is not None else "lead_gone"
    await TeamEvent.create(
        client_id=client.id,
        kind=kind,
        actor_id=actor.practitioner_id,  # type: ignore[attr-defined]
        subject_id=subject.practitioner_id if subject else None,  # type: ignore[attr-defined]
        at=now(),
    )
    where = {"client_id": client.id, "area_id": client.area_id}  # type: ignore[attr-defined]
    if chosen is not None:
        await audit.record(request, "team.lead_named", **where, membership=chosen.id)
    else:
        await audit.record(request, "team.lead_cleared", **where)
    # Once an hour per member and team, as joins and leaves: History keeps every change.
    await tell_team_once(
        request.app.state.settings,
        client.id,
        actor.practitioner,
        kind,
        f"/clients/{client.id}",
        topic="lead",
    )


async def leads_end_with(practitioner_id: int, settings: Settings) -> None:
    """A deactivated practitioner can lead no team (nobody could reach them): each team they
    led has none now, and History and an alert say so. Call in the deactivation's transaction."""
    led = await Membership.filter(
        practitioner_id=practitioner_id, ended_at__isnull=True, lead=True
    ).select_related("practitioner")
    if not led:
        return
    await Membership.filter(id__in=[m.id for m in led]).update(lead=False)
    moment = now()
    await TeamEvent.bulk_create(
        [
            TeamEvent(
                client_id=m.client_id,  # type: ignore[attr-defined]
                kind="lead_gone",
                actor_id=None,
                subject_id=practitioner_id,
                at=moment,
            )
            for m in led
        ]
    )
    for m in led:  # a practitioner leads a handful of teams at most
        client_id = m.client_id  # type: ignore[attr-defined]
        await tell_team(settings, client_id, m.practitioner, "lead_gone", f"/clients/{client_id}")


async def deactivate(practitioner: Practitioner, settings: Settings) -> int:
    """Deactivate a practitioner (`auth.deactivate`), the teams they led told first: their
    memberships before their own row, in the order a leave takes them, so a deactivation and
    their leaving at the same moment never deadlock. Returns how many sessions ended."""
    async with in_transaction():
        await leads_end_with(practitioner.id, settings)
        return await auth.deactivate(practitioner)
