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
from models.teams import Membership, TeamEvent
from web.core import audit
from web.core.access import may_lead
from web.core.alerts import tell_team
from web.core.clock import now


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
        async with in_transaction():
            await Membership.filter(client_id=client.id, ended_at__isnull=True, lead=True).update(
                lead=False
            )
            if chosen is not None and not await Membership.filter(
                id=chosen.id, ended_at__isnull=True, discreet=False
            ).update(lead=True):
                raise _Gone  # they left (or went discreet) a moment ago
            await _recorded(request, client, actor, previous, chosen)
    except (IntegrityError, _Gone):
        return False
    return True


class _Gone(Exception):
    """The member chosen as lead is no longer on the team (rolls the change back)."""


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
    await tell_team(
        request.app.state.settings, client.id, actor.practitioner, kind, f"/clients/{client.id}"
    )
