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
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import END_REASONS, Membership
from web.core import access, audit, clock, ratelimit
from web.core.alerts import tell_team_once
from web.core.auth import me, now, signed_in
from web.core.errors import error_page, too_many_requests, too_many_searches
from web.core.render import page_or_block
from web.core.search import index_clients
from web.teams.team import client_or_404, join_this_team


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
        ended = await Membership.filter(id=membership.id, ended_at__isnull=True).update(
            ended_at=membership.ended_at, end_reason=reason
        )
        if not ended:
            return await Membership.get(id=membership.id)
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


# -- routes -----------------------------------------------------------------------------------


#: Joins of one client's team a practitioner may make in an hour (each one tells the team).
JOINS_PER_HOUR = 3


async def _member_client(request: Request) -> Client | None:
    """The client for a current member; None (audited) for anyone else, whether or not the
    id exists, so a non-member learns nothing."""
    client_id = request.path_params["client_id"]
    if not await access.is_member(me(request), client_id):
        await audit.record(request, "team.refused", client_id=client_id)
        return None
    return await client_or_404(client_id)


async def _shown_client(request: Request, ref: str) -> Client | None:
    """The client of this join page, if `ref` proves it was just shown to this practitioner."""
    client_id = request.path_params["client_id"]
    secret = request.app.state.settings.secret_key
    if not access.reference_is_valid(secret, ref, me(request).id, client_id):
        return None
    return await Client.get_or_none(id=client_id).select_related("area")


async def _find_first(request: Request) -> Response:
    """A join page reached without a reference: nothing about any client, the same page for
    every id (existing or not), and audited."""
    await audit.record(request, "team.join_refused", client_id=request.path_params["client_id"])
    return error_page(
        request,
        404,
        "To join a client's team, find them with client search first, then choose "
        "Join team on their card.",
        title="Find the client first",
        action_url="/clients/search",
        action_label="Find a client",
    )


async def _join_page(
    request: Request, client: Client, role: str, errors: dict[str, str], ref: str, status: int
) -> Response:
    """The join confirmation. Seeing a client counts against the search limit (once an hour
    per client) and is audited, like the search that led here."""
    limit = request.app.state.settings.search_rate_per_hour
    area_id = client.area_id  # type: ignore[attr-defined]
    if not await ratelimit.search(me(request).id, f"join:{client.id}", limit):
        await audit.record(
            request, "client.search_refused", client_id=client.id, area_id=area_id, scope="join"
        )
        return too_many_searches(request, limit)
    await audit.record(request, "team.join_opened", client_id=client.id, area_id=area_id)
    return page_or_block(
        request,
        "teams/join.html",
        {"client": client, "role": role, "errors": errors, "ref": ref},
        status_code=status,
    )


@signed_in
async def join_form(request: Request) -> Response:
    """Confirm joining a client's team: the role (from your job title) and a tick. Reached
    only from a client you were shown: a search result, circle card, join code or invitation."""
    client_id = request.path_params["client_id"]
    if await access.is_member(me(request), client_id):
        return RedirectResponse(f"/clients/{client_id}", status_code=303)
    ref = request.query_params.get("ref", "")
    client = await _shown_client(request, ref)
    if client is None:
        return await _find_first(request)
    return await _join_page(request, client, me(request).job_title, {}, ref, 200)


@signed_in
async def join_team(request: Request) -> Response:
    """Join the team; every visible member is alerted. Refused without a reference."""
    client_id = request.path_params["client_id"]
    if await access.is_member(me(request), client_id):
        return RedirectResponse(f"/clients/{client_id}", status_code=303)
    form = await request.form()
    ref = str(form.get("ref", ""))
    client = await _shown_client(request, ref)
    if client is None:
        return await _find_first(request)
    role = str(form.get("role", "")).strip()
    errors = {}
    if not role:
        errors["role"] = "Enter your role with this client"
    elif len(role) > 120:
        errors["role"] = "The role must be 120 characters or fewer"
    if form.get("working_with") != "yes":
        errors["working_with"] = "Tick the box to confirm you are working with this client"
    if errors:
        return await _join_page(request, client, role, errors, ref, 422)
    if not await ratelimit.hit(f"join:{me(request).id}:{client.id}", JOINS_PER_HOUR):
        area_id = client.area_id  # type: ignore[attr-defined]
        await audit.record(request, "team.join_limited", client_id=client.id, area_id=area_id)
        return too_many_requests(
            request,
            f"You have joined this client's team {JOINS_PER_HOUR} times in the last hour, the "
            "most Patchwork allows, because every join alerts the team. Try again later, or "
            "call someone on the team.",
        )
    await join(request, me(request), client, role)
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


@signed_in
async def leave_form(request: Request) -> Response:
    """Ask why you are leaving the team."""
    client = await _member_client(request)
    if client is None:
        return join_this_team(request)
    return page_or_block(request, "teams/leave.html", {"client": client, "errors": {}})


@signed_in
async def leave_team(request: Request) -> Response:
    """Leave the team; the membership stays in the team's history."""
    client = await _member_client(request)
    if client is None:  # before the form is read: a non-member's mistake shows no name
        return join_this_team(request)
    reason = str((await request.form()).get("reason", ""))
    if reason not in ("case_closed", "transferred", "other"):
        return page_or_block(
            request,
            "teams/leave.html",
            {"client": client, "errors": {"reason": "Choose why you are leaving the team"}},
            status_code=422,
        )
    if await leave(request, me(request), client, reason) is None:
        return join_this_team(request)
    return RedirectResponse("/?left=1", status_code=303)


routes = [
    Route("/clients/{client_id:int}/join", join_form, methods=["GET"]),
    Route("/clients/{client_id:int}/join", join_team, methods=["POST"]),
    Route("/clients/{client_id:int}/leave", leave_form, methods=["GET"]),
    Route("/clients/{client_id:int}/leave", leave_team, methods=["POST"]),
]
