"""Team membership: adding a client, joining, leaving, and telling the team.

Each runs in one transaction with its audit event and its alerts, so a change and the messages
about it happen together or not at all. Used by the team's pages, by adding a client and by
signup (joining the team an invitation named).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from starlette.requests import Request
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import END_REASONS, Membership, TeamEvent
from web.core import access, audit, clock, db
from web.core.alerts import tell_team_once
from web.core.clock import now
from web.core.name_index import index_clients
from web.core.scopes import scope_changed


@dataclass(frozen=True)
class NewClient:
    given_name: str
    family_name: str
    other_names: str
    birth_date: date | None
    birth_year: int | None
    area_id: int
    sharing_basis: str
    legal_basis: str


async def add_client(request: Request, practitioner: Practitioner, new: NewClient) -> Client:
    """Create the client, index its names, and make `practitioner` its first member."""
    async with in_transaction():
        client = await Client.create(
            given_name=new.given_name,
            family_name=new.family_name,
            other_names=new.other_names,
            birth_date=new.birth_date,
            birth_year=new.birth_year,
            area_id=new.area_id,
            sharing_basis=new.sharing_basis,
            legal_basis=new.legal_basis,
            created_by=practitioner,
        )
        await index_clients([client])
        await audit.record(request, "client.added", client_id=client.id, area_id=new.area_id)
        await join(request, practitioner, client, practitioner.job_title or "Practitioner")
    return client


async def join(
    request: Request, practitioner: Practitioner, client: Client, role: str
) -> Membership:
    """Join a client's team (discreetly for a sensitive organisation) and alert the team."""
    try:
        return await _join(request, practitioner, client, role)
    except IntegrityError:
        # Two joins by one practitioner raced (a double tap, two tabs): the partial unique
        # index kept one current membership, and it is the answer to both. _join's
        # transaction (a savepoint when nested) rolled back, so nothing of the loser remains.
        existing = await Membership.get_or_none(
            access.current(), client_id=client.id, practitioner_id=practitioner.id
        )
        if existing is None:
            raise
        return existing


async def _join(
    request: Request, practitioner: Practitioner, client: Client, role: str
) -> Membership:
    """The join itself, in one transaction with its audit event and alerts."""
    async with in_transaction():
        existing = await Membership.get_or_none(
            access.current(), client_id=client.id, practitioner_id=practitioner.id
        )
        if existing is not None:
            return existing
        await practitioner.fetch_related("organisation")
        moment = now()
        membership = await Membership.create(
            client=client,
            practitioner=practitioner,
            role=role[:120],
            started_at=moment,
            last_confirmed_at=moment,
            last_contact_on=clock.today(),
            discreet=practitioner.organisation.sensitive,
            visible_since=None if practitioner.organisation.sensitive else moment,
        )
        await Client.filter(id=client.id).update(team_empty_since=None)
        await scope_changed(practitioner.id)
        await audit.record(
            request,
            "team.joined",
            client_id=client.id,
            area_id=client.area_id,  # type: ignore[attr-defined]
            discreet=membership.discreet,
        )
        if not membership.discreet:
            await alert_team(request, client, practitioner, "joined")
    return membership


async def leave(
    request: Request, practitioner: Practitioner, client: Client, reason: str
) -> Membership | None:
    """End a membership, keeping it as history, and alert the team."""
    assert reason in END_REASONS
    async with in_transaction():
        membership = await Membership.get_or_none(
            access.current(), client_id=client.id, practitioner_id=practitioner.id
        )
        if membership is None:
            return None
        membership.ended_at = now()
        membership.end_reason = reason
        # Only a current row is ended: of two leaves that race, the second changes nothing
        # and tells nobody (it waits for the first's row lock, then finds it ended).
        was_lead = await _end(membership.id, membership.ended_at, reason)
        if was_lead is None:
            return await Membership.get(id=membership.id)
        await scope_changed(practitioner.id)
        if not await Membership.filter(access.current(), client_id=client.id).exists():
            await Client.filter(id=client.id).update(team_empty_since=membership.ended_at)
        await audit.record(
            request,
            "team.left",
            client_id=client.id,
            area_id=client.area_id,  # type: ignore[attr-defined]
            reason=reason,
        )
        kind = await lead_gone_with(client.id, membership, was_lead, membership.ended_at)
        if not membership.discreet:
            await alert_team(request, client, practitioner, kind)
    return membership


async def go_discreet(request: Request, client: Client, own: Membership) -> None:
    """A visible member becomes discreet again. To the team this is leaving, because that is
    what it must look like: the visible membership ends ("other reason") with the alert a
    leave sends, and a discreet one, which nobody else sees, goes on from now. What the team
    was shown (the named "joined", History) stays as it was."""
    async with in_transaction():
        moment = now()  # as a leave takes it: just before the row is ended
        was_lead = await _end(own.id, moment, "other", visible_only=True)
        if was_lead is None:  # a second tap, or a leave that raced it
            return
        await Membership.create(
            client_id=client.id,
            practitioner_id=own.practitioner_id,  # type: ignore[attr-defined]
            role=own.role,
            started_at=moment,
            last_confirmed_at=moment,
            last_contact_on=own.last_contact_on,
            discreet=True,
            visible_since=None,
        )
        await audit.record(
            request,
            "team.visibility",
            client_id=client.id,
            area_id=client.area_id,  # type: ignore[attr-defined]
            discreet=True,
        )
        kind = await lead_gone_with(client.id, own, was_lead, moment)
        await alert_team(request, client, own.practitioner, kind)


async def alert_team(request: Request, client: Client, actor: Practitioner, kind: str) -> None:
    """Tell the rest of the team (discreet members too: they see, they are not seen). Only
    the first join or leave by one practitioner on a team in an hour alerts, so joining and
    leaving over and over tells the team once; its page and history show the rest."""
    await tell_team_once(
        request.app.state.settings,
        client.id,
        actor,
        kind,
        f"/clients/{client.id}",
        topic="membership",
    )


#: End a current membership in one statement that says whether it was the lead: read under
#: the row's lock, so a lead named a moment before is seen, not missed. (An ended row keeps
#: the flag as it was: every reader of the lead asks for current memberships only.)
END_SQL = (
    "UPDATE membership SET ended_at = {0}, end_reason = {1} "
    "WHERE id = {2} AND ended_at IS NULL{visible} RETURNING lead"
)


async def _end(
    membership_id: int, moment: datetime | None, reason: str, *, visible_only: bool = False
) -> bool | None:
    """End the membership: None when it had ended already (of two that race, the second does
    nothing and tells nobody), else whether it was the team's lead."""
    sqlite = db.dialect() == "sqlite"
    marks = ("?", "?", "?") if sqlite else ("$1", "$2", "$3")
    at = (
        Membership._meta.fields_map["ended_at"].to_db_value(moment, Membership)
        if sqlite
        else moment
    )
    statement = END_SQL.format(*marks, visible=" AND NOT discreet" if visible_only else "")
    rows = await connections.get("default").execute_query_dict(
        statement, [at, reason, membership_id]
    )
    return bool(rows[0]["lead"]) if rows else None


async def lead_gone_with(
    client_id: int, membership: Membership, was_lead: bool, at: datetime | None
) -> str:
    """A membership just ended (call in its transaction): if it was the lead's, the team has
    none now, and History says so. Returns the alert the departure sends: "lead_left" for the
    lead (one alert says both), else "left"."""
    if not was_lead or membership.discreet:
        return "left"
    await TeamEvent.create(
        client_id=client_id,
        kind="lead_gone",
        actor_id=None,
        subject_id=membership.practitioner_id,  # type: ignore[attr-defined]
        at=at or now(),
    )
    return "lead_left"
