"""The Circle tab: the client's personal network, as links between two clients.

A member of a client's team may link another client whose team they are also on, with a
relationship. Everyone on either team then sees the linked client's visible team, with
"View team" where they are on it and "Join team" where they are not, with each visible
practitioner's phone and email, and a picture of it all (web/teams/circle_picture.py). Adding
or removing a link alerts both teams; removing asks first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.circles import INVERSE, RELATIONSHIPS, CircleLink, ordered_pair
from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import access, audit
from web.core.alerts import tell_team_once
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.forms import MAX_ID, form_int
from web.core.render import page_or_block
from web.teams.circle_links import CircleMember, circle_of
from web.teams.circle_picture import KINDS, Group, Picture, draw, kind_of
from web.teams.team import WITH_CIRCLE, mine, team_or_refusal, teams_or_refusal, viewed

RELATIONSHIP_LABELS = {
    "parent": "Parent",
    "child": "Child",
    "sibling": "Sibling",
    "household": "Household member",
    "carer": "Carer",
    "partner": "Partner",
    "other": "Other significant person",
}
assert set(RELATIONSHIP_LABELS) == set(RELATIONSHIPS)


def links_of(client_id: int) -> Q:
    return Q(client_a_id=client_id) | Q(client_b_id=client_id)


def seen_from(link: CircleLink, client_id: int) -> tuple[Client, str]:
    """The other client of a link and what they are to `client_id`."""
    if link.client_a_id == client_id:  # type: ignore[attr-defined]
        return link.client_b, link.relationship
    return link.client_a, INVERSE.get(link.relationship, link.relationship)


def picture(
    viewer: Practitioner, client: Client, team: list[Membership], circle: list[CircleMember]
) -> Picture:
    """The network picture: the client and their team in the middle, their circle about them."""
    return draw(
        Group(client, "", team),
        [Group(m.client, RELATIONSHIP_LABELS[m.relationship], m.team) for m in circle],
        viewer.id,
    )


async def circle_page(
    request: Request,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    clients = WITH_CIRCLE.format(c=int(request.path_params["client_id"]))
    found = await teams_or_refusal(request, clients)
    if isinstance(found, Response):
        return found
    client, team, linked_teams = found
    viewer = me(request)
    circle, candidates = await circle_of(viewer, client.id, linked_teams)
    # Each linked client's team shown here (names and how to reach them) is a view of that
    # team too: audited under its own client, with the circle it was seen from.
    linked = [viewed(request, m.client, via_circle_of=client.id) for m in circle if m.team]
    await audit.record_all([viewed(request, client), *linked])
    return page_or_block(
        request,
        "teams/circle.html",
        {
            "client": client,
            "tab": "circle",
            "circle": circle,
            "team": team,
            "picture": picture(viewer, client, team, circle),
            "kinds": KINDS,
            "kind_of": kind_of,
            "candidates": candidates,
            "relationships": RELATIONSHIP_LABELS,
            "form": form or {"other": "", "relationship": ""},
            "errors": errors or {},
            "notice": request.query_params.get("done", ""),
            "discreet": mine(request, team).discreet,
        },
        status_code=status_code,
    )


@queries(PAGE)
@signed_in
async def show(request: Request) -> Response:
    """The Circle tab: the picture, a card per linked client, and the form to link one."""
    return await circle_page(request)


@queries(18)
@signed_in
async def add_link(request: Request) -> Response:
    """Link one of my own clients into this client's circle; both teams are alerted."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    viewer = me(request)
    raw = await request.form()
    form = {
        "other": str(raw.get("other", "")),
        "relationship": str(raw.get("relationship", "")),
    }
    errors = {}
    other_id = form_int(form["other"], low=1, high=MAX_ID) or 0
    if not other_id or other_id == client.id or not await access.is_member(viewer, other_id):
        errors["other"] = (
            "Choose one of your own clients: you can only link clients whose team you are on"
        )
    if form["relationship"] not in RELATIONSHIPS:
        errors["relationship"] = "Choose how they are related"
    if errors:
        return await circle_page(request, form, errors, status_code=422)
    a, b, relationship = ordered_pair(client.id, other_id, form["relationship"])
    try:
        async with in_transaction():
            link = await CircleLink.create(
                client_a_id=a, client_b_id=b, relationship=relationship, created_by=viewer
            )
            await audit.record(
                request,
                "circle.linked",
                client_id=client.id,
                area_id=client.area_id,
                other_client_id=other_id,
                link_id=link.id,
            )
            await tell_both_teams(request, link, viewer, "circle_linked")
    except IntegrityError:
        errors["other"] = "That client is already in this circle"
        return await circle_page(request, form, errors, status_code=422)
    return RedirectResponse(f"/clients/{client.id}/circle?done=linked", status_code=303)


@queries(PAGE)
@signed_in
async def confirm_remove(request: Request) -> Response:
    """Removing a link cannot be undone, so "Remove link" asks first (a page, no script)."""
    found = await team_or_refusal(request, link_id=request.path_params["link_id"])
    if isinstance(found, Response):
        return found
    client, team = found
    link = await CircleLink.get_or_none(
        links_of(client.id), id=request.path_params["link_id"]
    ).select_related("client_a", "client_b")
    if link is None:
        return RedirectResponse(f"/clients/{client.id}/circle", status_code=303)
    other, relationship = seen_from(link, client.id)
    context = {
        "client": client,
        "link": link,
        "other": other,
        "relationship": RELATIONSHIP_LABELS[relationship],
        "discreet": mine(request, team).discreet,
    }
    return page_or_block(request, "teams/circle_remove.html", context)


@queries(16)
@signed_in
async def remove_link(request: Request) -> Response:
    """Undo a link made in error. Any member of either team may; both teams are told."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, _team = found
    link = await CircleLink.get_or_none(links_of(client.id), id=request.path_params["link_id"])
    if link is None:
        return RedirectResponse(f"/clients/{client.id}/circle", status_code=303)
    async with in_transaction():
        await audit.record(
            request,
            "circle.unlinked",
            client_id=client.id,
            area_id=client.area_id,
            link_id=link.id,
        )
        await tell_both_teams(request, link, me(request), "circle_unlinked")
        await link.delete()
    return RedirectResponse(f"/clients/{client.id}/circle?done=unlinked", status_code=303)


async def tell_both_teams(
    request: Request, link: CircleLink, actor: Practitioner, kind: str
) -> None:
    """Each person on either team but the actor, once, pointing at their own client."""
    told: set[int] = set()
    for client_id in (link.client_a_id, link.client_b_id):  # type: ignore[attr-defined]
        told |= await tell_team_once(
            request.app.state.settings,
            client_id,
            actor,
            kind,
            f"/clients/{client_id}/circle",
            topic="circle",
            named=False,
            already_told=told,
        )


routes = [
    Route("/clients/{client_id:int}/circle", show, methods=["GET"]),
    Route("/clients/{client_id:int}/circle", add_link, methods=["POST"]),
    Route("/clients/{client_id:int}/circle/{link_id:int}/remove", confirm_remove, methods=["GET"]),
    Route("/clients/{client_id:int}/circle/{link_id:int}/remove", remove_link, methods=["POST"]),
]
