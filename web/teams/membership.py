"""Joining and leaving a team, and a discreet member's choice to be seen: the pages and forms
(the rules are web/core/membership.py)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.expressions import RawSQL
from tortoise.transactions import in_transaction

from models.clients import Client
from models.teams import Membership
from web.core import access, audit, clock, ratelimit, references
from web.core.auth import me, now, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import error_page, too_many_requests, too_many_searches
from web.core.membership import alert_team, go_discreet, join, leave
from web.core.render import page_or_block
from web.teams.team import client_or_404, join_this_team, mine, team_or_refusal

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


async def _client_and_mine(request: Request) -> tuple[Client | None, bool]:
    """The client of this join page, and whether the practitioner is on its team already (one
    statement)."""
    on_team = RawSQL(access.on_team_sql('"client"."id"', me(request).id))
    client = (
        await Client.filter(id=request.path_params["client_id"])
        .select_related("area")
        .annotate(on_team=on_team)
        .first()
    )
    return client, bool(client is not None and client.on_team)  # type: ignore[attr-defined]


def _shown(request: Request, client: Client | None, ref: str) -> Client | None:
    """`client`, if `ref` proves it was just shown to this practitioner."""
    client_id = request.path_params["client_id"]
    secret = request.app.state.settings.secret_key
    if client is None or not references.reference_is_valid(secret, ref, me(request).id, client_id):
        return None
    return client


async def _join_refused(request: Request, client: Client, did: str) -> Response | None:
    """None while this practitioner may still let `client`'s team see them join this hour;
    else the refusal (audited). `did` says what they did JOINS_PER_HOUR times."""
    if await ratelimit.hit(f"join:{me(request).id}:{client.id}", JOINS_PER_HOUR):
        return None
    area_id = client.area_id  # type: ignore[attr-defined]
    await audit.record(request, "team.join_limited", client_id=client.id, area_id=area_id)
    return too_many_requests(
        request,
        f"You have {did} {JOINS_PER_HOUR} times in the last hour, the most Patchwork allows, "
        "because each time tells the team. Try again later, or call someone on the team.",
    )


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


@queries(PAGE + 2)  # SQLite counts a first look in two statements; the session touch
@signed_in
async def join_form(request: Request) -> Response:
    """Confirm joining a client's team: the role (from your job title) and a tick. Reached
    only from a client you were shown: a search result, circle card, join code or invitation."""
    client_id = request.path_params["client_id"]
    found, on_team = await _client_and_mine(request)
    if on_team:
        return RedirectResponse(f"/clients/{client_id}", status_code=303)
    ref = request.query_params.get("ref", "")
    client = _shown(request, found, ref)
    if client is None:
        return await _find_first(request)
    return await _join_page(request, client, me(request).job_title, {}, ref, 200)


@queries(15)
@signed_in
async def join_team(request: Request) -> Response:
    """Join the team; every visible member is alerted. Refused without a reference."""
    client_id = request.path_params["client_id"]
    found, on_team = await _client_and_mine(request)
    if on_team:
        return RedirectResponse(f"/clients/{client_id}", status_code=303)
    form = await request.form()
    ref = str(form.get("ref", ""))
    client = _shown(request, found, ref)
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
    # A discreet join tells nobody, so it is not counted; becoming visible is (visibility).
    if not me(request).organisation.sensitive:
        refused = await _join_refused(request, client, "joined this client's team")
        if refused is not None:
            return refused
    await join(request, me(request), client, role)
    return RedirectResponse(f"/clients/{client.id}", status_code=303)


@queries(PAGE)
@signed_in
async def leave_form(request: Request) -> Response:
    """Ask why you are leaving the team."""
    client = await _member_client(request)
    if client is None:
        return join_this_team(request)
    return page_or_block(request, "teams/leave.html", {"client": client, "errors": {}})


@queries(15)  # a lead's departure adds History's "no lead" line
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


async def own_visibility(
    request: Request, record_view: bool = True
) -> tuple[Client, Membership] | Response:
    """The client and this member's own membership, for a member who may be discreet."""
    found = await team_or_refusal(request, record_view)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    if not (me(request).organisation.sensitive or own.discreet):
        raise HTTPException(403, "Only members from a sensitive service can be discreet.")
    return client, own


@queries(PAGE)
@signed_in
async def visibility_form(request: Request) -> Response:
    """Before changing: exactly what the team will and will not see."""
    found = await own_visibility(request)
    if isinstance(found, Response):
        return found
    client, own = found
    return page_or_block(
        request, "teams/visibility.html", {"client": client, "mine": own, "tab": "team"}
    )


@queries(12)
@signed_in
async def visibility(request: Request) -> Response:
    """A member from a sensitive service chooses to be visible to the team, or discreet.

    Becoming visible starts the team's view of you now: your card, "joined" in History
    today, and an alert, as for anyone who joins. Nothing you did while discreet is
    attributed to you. Becoming discreet again reads to the team as leaving (go_discreet)."""
    found = await own_visibility(request, record_view=False)  # the change is audited
    if isinstance(found, Response):
        return found
    client, own = found
    form = await request.form()
    wanted = str(form.get("discreet", "")) == "yes"
    if form.get("confirmed") != "yes":
        return RedirectResponse(f"/clients/{client.id}/visibility", status_code=303)
    if wanted == own.discreet:
        return RedirectResponse(f"/clients/{client.id}", status_code=303)
    if wanted:  # to the team, this is someone leaving
        await go_discreet(request, client, own)
        return RedirectResponse(f"/clients/{client.id}?done=visibility", status_code=303)
    # Each time the team sees someone join counts as a join does (an hour holds
    # JOINS_PER_HOUR), so being seen and going discreet again, over and over, leaves no more
    # "joined" lines in History than leaving and joining again could.
    refused = await _join_refused(request, client, "let this client's team see you")
    if refused is not None:
        return refused
    moment = now()
    async with in_transaction():
        # Choosing to be seen confirms the involvement too, and reads as any join does: an
        # old check-in date would show "not confirmed since" a day from before the team could
        # see them, and the contact date from then is not the team's to see.
        await Membership.filter(id=own.id).update(
            discreet=False,
            visible_since=moment,
            last_confirmed_at=moment,
            last_contact_on=clock.today(),
        )
        await audit.record(
            request, "team.visibility", client_id=client.id, area_id=client.area_id, discreet=False
        )
        await alert_team(request, client, me(request), "joined")  # to the team, a join
    return RedirectResponse(f"/clients/{client.id}?done=visibility", status_code=303)


routes = [
    Route("/clients/{client_id:int}/join", join_form, methods=["GET"]),
    Route("/clients/{client_id:int}/join", join_team, methods=["POST"]),
    Route("/clients/{client_id:int}/visibility", visibility_form, methods=["GET"]),
    Route("/clients/{client_id:int}/visibility", visibility, methods=["POST"]),
    Route("/clients/{client_id:int}/leave", leave_form, methods=["GET"]),
    Route("/clients/{client_id:int}/leave", leave_team, methods=["POST"]),
]
