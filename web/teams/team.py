"""The team page: who is involved and how to reach them, history, meetings, contact and
inviting a colleague. Members only, discreet members unseen (joining face to face is in
web/teams/join_codes.py)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.audit import AuditEvent
from models.clients import Client
from models.teams import Membership
from web.core import access, audit, clock
from web.core.access import lapsed_before
from web.core.areas import area_tree
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.errors import error_page
from web.core.history import attentions_and_events, history_events
from web.core.render import page_or_block
from web.core.settings import Settings


async def client_or_404(client_id: int) -> Client:
    client = await Client.get_or_none(id=client_id).select_related("area")
    if client is None:
        raise HTTPException(404)
    return client


def join_this_team(request: Request) -> Response:
    """The members-only refusal: no member's name, no count, no attention, no circle, and
    nothing from the client either, so it reads the same whether or not the id exists."""
    return error_page(
        request,
        403,
        "Only the practitioners on this client's team can see who is involved. If you work "
        "with this client, find them with client search and join the team.",
        title="Join this team to see who is involved",
        action_url="/clients/search",
        action_label="Find a client",
    )


def discreet_refusal(request: Request, client: Client, doing: str, title: str) -> Response:
    """What a discreet member sees when `doing` (the lead, the family's card) would show the
    team, or the family, that they are there."""
    return error_page(
        request,
        403,
        f"You are on this team discreetly. {doing} would show that you are involved, so only "
        "members the team can see may do it. Ask a colleague on the team, or let the team see "
        "you first from your card.",
        title=title,
        action_url=f"/clients/{client.id}",
        action_label="Back to the team",
    )


def place_changed(request: Request, client: Client, doing: str) -> Response:
    """What a member sees whose place on the team changed (they left, or went discreet) while
    they were `doing` something for it: nothing was done."""
    return error_page(
        request,
        409,
        f"Your place on this team changed a moment ago, so nothing was {doing}. Open the team "
        "again.",
        action_url=f"/clients/{client.id}",
        action_label="Back to the team",
    )


def viewed(request: Request, client: Client, **detail: Any) -> AuditEvent:
    """The audit event of a member's view of a client's team (a tab, or a circle's card)."""
    tab = request.url.path.rsplit("/", 1)[-1]
    return audit.event(
        request, "team.viewed", client_id=client.id, area_id=client.area_id, tab=tab, **detail
    )


async def team_or_refusal(
    request: Request, record_view: bool = True, **detail: Any
) -> tuple[Client, list[Membership]] | Response:
    """The client and the team as this member sees it (one query, the client read with the
    team), or the refusal. Both the view (with `detail`: what else the page shows) and the
    refusal are audited; the caller records the view itself when `record_view` is false."""
    found = await teams_or_refusal(request, str(int(request.path_params["client_id"])))
    if isinstance(found, Response):
        return found
    client, team, _others = found
    if record_view:
        await viewed(request, client, **detail).save()
    return client, team


#: The client of the path and the clients linked to it in a circle (`teams_or_refusal`).
WITH_CIRCLE = (
    "SELECT {c} UNION SELECT CASE WHEN l.client_a_id = {c} THEN l.client_b_id "
    "ELSE l.client_a_id END FROM circle_link l WHERE l.client_a_id = {c} OR l.client_b_id = {c}"
)


async def teams_or_refusal(
    request: Request, clients: str
) -> tuple[Client, list[Membership], list[Membership]] | Response:
    """`team_or_refusal` reading, in the same statement, the visible teams of the other clients
    `clients` lists (ids or a subquery, such as WITH_CIRCLE's): those come third. The view is
    the caller's to record."""
    client_id = request.path_params["client_id"]
    practitioner = me(request)
    teams = await access.visible_teams_in(practitioner, clients)
    team = [m for m in teams if m.client_id == client_id]  # type: ignore[attr-defined]
    if not any(m.practitioner_id == practitioner.id for m in team):
        # The same refusal for a client that does not exist: ids cannot be probed.
        await refused(request, client_id)
        return join_this_team(request)
    client = team[0].client
    client.area = (await area_tree()).get(client.area_id)  # type: ignore[assignment,attr-defined]
    return client, team, [m for m in teams if m.client_id != client_id]  # type: ignore[attr-defined]


async def refused(request: Request, client_id: int) -> None:
    """Audit a refusal to show a client's team (with the client's area, where it exists)."""
    area_id = await Client.filter(id=client_id).values_list("area_id", flat=True)
    await audit.record(
        request, "team.refused", client_id=client_id, area_id=area_id[0] if area_id else None
    )


def mine(request: Request, team: list[Membership]) -> Membership:
    return next(m for m in team if m.practitioner_id == me(request).id)


def local_today(settings: Settings) -> date:
    return clock.today()


@queries(PAGE)
@signed_in
async def show(request: Request) -> Response:
    """The Team tab: a card per visible member, and one-tap actions. Four queries at most."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    others = [m for m in team if m.practitioner_id != me(request).id]
    # The lead first (the team's main contact), then colleagues: you do not call yourself.
    lead = access.lead_of(team)
    team = sorted(others + [mine(request, team)], key=lambda m: m != lead)
    mailto = "mailto:" + ",".join(quote(m.practitioner.email, safe="@") for m in others)
    return page_or_block(
        request,
        "teams/show.html",
        {
            "client": client,
            "team": team,
            "mine": mine(request, team),
            "mailto": mailto,
            "others": others,
            "lead": lead,
            # Acting for the team (naming the lead, sharing with the family) would show a
            # discreet member: offered only to those the team sees (access.may_lead).
            "seen_by_team": access.may_lead(mine(request, team)),
            "since": {m.id: access.joined_at(me(request), m) for m in team},
            "last_contact": {m.id: access.last_contact_seen(me(request), m) for m in team},
            "tab": "team",
            "notice": request.query_params.get("done", ""),
            "lapsed_before": lapsed_before(request.app.state.settings),
        },
    )


@queries(PAGE)
@signed_in
async def history(request: Request) -> Response:
    """The History tab: who was involved when, including those who left, and attentions."""
    client_id = request.path_params["client_id"]
    practitioner = me(request)
    memberships = await Membership.filter(
        access.ever_visible_to(practitioner), client_id=client_id
    ).select_related("practitioner__organisation", "client")
    if not any(m.practitioner_id == practitioner.id and m.ended_at is None for m in memberships):
        await refused(request, client_id)
        return join_this_team(request)
    client = memberships[0].client
    client.area = (await area_tree()).get(client.area_id)  # type: ignore[assignment,attr-defined]
    await audit.record(
        request, "team.viewed", client_id=client.id, area_id=client.area_id, tab="history"
    )
    attentions, team_events = await attentions_and_events(client.id)
    events = history_events(practitioner, memberships, attentions, team_events)
    return page_or_block(
        request,
        "teams/history.html",
        {
            "client": client,
            "events": events,
            "tab": "history",
        },
    )


@queries(5)
@signed_in
async def contact_today(request: Request) -> Response:
    """ "I had contact today": the team sees how recent your contact is."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    own = mine(request, team)
    await Membership.filter(id=own.id).update(
        last_contact_on=local_today(request.app.state.settings)
    )
    await audit.record(request, "team.contact", client_id=client.id, area_id=client.area_id)
    return RedirectResponse(f"/clients/{client.id}?done=contact", status_code=303)


routes = [
    Route("/clients/{client_id:int}", show, methods=["GET"]),
    Route("/clients/{client_id:int}/history", history, methods=["GET"]),
    Route("/clients/{client_id:int}/contact", contact_today, methods=["POST"]),
]
