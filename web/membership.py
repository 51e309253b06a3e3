"""Team membership: adding a client, joining, leaving, and telling the team.

Routes call these; each runs in one transaction with its audit event and its alerts, so a
change and the messages about it happen together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import END_REASONS, Membership
from web import access, audit
from web.alerts import tell_team
from web.auth import me, now, signed_in
from web.render import page_or_block
from web.search import index_clients
from web.teams import client_or_404, join_this_team


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
            last_contact_on=moment.date(),
            discreet=practitioner.organisation.sensitive,
        )
        await Client.filter(id=client.id).update(team_empty_since=None)
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
        await membership.save(update_fields=["ended_at", "end_reason"])
        if not await Membership.filter(access.current(), client_id=client.id).exists():
            await Client.filter(id=client.id).update(team_empty_since=membership.ended_at)
        await audit.record(
            request,
            "team.left",
            client_id=client.id,
            area_id=client.area_id,  # type: ignore[attr-defined]
            reason=reason,
        )
        if not membership.discreet:
            await alert_team(request, client, practitioner, "left")
    return membership


async def alert_team(request: Request, client: Client, actor: Practitioner, kind: str) -> None:
    """Tell the rest of the team (discreet members too: they see, they are not seen)."""
    await tell_team(request.app.state.settings, client.id, actor, kind, f"/clients/{client.id}")


# -- routes -----------------------------------------------------------------------------------


async def _client(request: Request) -> Client:
    return await client_or_404(request.path_params["client_id"])


@signed_in
async def join_form(request: Request) -> Response:
    """Confirm joining a client's team: the role (from your job title) and a tick."""
    client = await _client(request)
    if await access.is_member(me(request), client.id):
        return RedirectResponse(f"/clients/{client.id}", status_code=303)
    return page_or_block(
        request,
        "teams/join.html",
        {
            "client": client,
            "role": me(request).job_title,
            "errors": {},
        },
    )


@signed_in
async def join_team(request: Request) -> Response:
    """Join the team; every visible member is alerted."""
    client = await _client(request)
    form = await request.form()
    role = str(form.get("role", "")).strip()
    errors = {}
    if not role:
        errors["role"] = "Enter your role with this client"
    elif len(role) > 120:
        errors["role"] = "The role must be 120 characters or fewer"
    if form.get("working_with") != "yes":
        errors["working_with"] = "Tick the box to confirm you are working with this client"
    if errors:
        return page_or_block(
            request,
            "teams/join.html",
            {"client": client, "role": role, "errors": errors},
            status_code=422,
        )
    await join(request, me(request), client, role)
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


@signed_in
async def leave_form(request: Request) -> Response:
    """Ask why you are leaving the team."""
    client = await _client(request)
    if not await access.is_member(me(request), client.id):
        return join_this_team(request, client)
    return page_or_block(request, "teams/leave.html", {"client": client, "errors": {}})


@signed_in
async def leave_team(request: Request) -> Response:
    """Leave the team; the membership stays in the team's history."""
    client = await _client(request)
    reason = str((await request.form()).get("reason", ""))
    if reason not in ("case_closed", "transferred", "other"):
        return page_or_block(
            request,
            "teams/leave.html",
            {"client": client, "errors": {"reason": "Choose why you are leaving the team"}},
            status_code=422,
        )
    if await leave(request, me(request), client, reason) is None:
        return join_this_team(request, client)
    return RedirectResponse("/?left=1", status_code=303)


routes = [
    Route("/clients/{client_id:int}/join", join_form, methods=["GET"]),
    Route("/clients/{client_id:int}/join", join_team, methods=["POST"]),
    Route("/clients/{client_id:int}/leave", leave_form, methods=["GET"]),
    Route("/clients/{client_id:int}/leave", leave_team, methods=["POST"]),
]
