"""Reading a circle: the client's links, the linked clients' teams as the viewer sees them and
the viewer's own clients that could be linked (web/teams/circles.py shows and changes it)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tortoise import connections

from models.circles import INVERSE, CircleLink
from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import tables
from web.core.areas import area_tree


@dataclass(frozen=True)
class CircleMember:
    link: CircleLink
    client: Client
    relationship: str  # what `client` is to the client whose circle this is
    team: list[Membership]
    mine: bool  # the viewer is on `client`'s team


#: A client's circle links with the other client of each, and the viewer's own clients (to
#: offer for a new link), in one statement: `kind` says which a row is.
LINKS_SQL = (
    "SELECT 'link' AS kind, {links}, {others} FROM circle_link l JOIN client c ON c.id = "
    "CASE WHEN l.client_a_id = {client} THEN l.client_b_id ELSE l.client_a_id END "
    "WHERE l.client_a_id = {client} OR l.client_b_id = {client} UNION ALL "
    "SELECT 'mine', {no_link}, {others} FROM membership m JOIN client c ON c.id = m.client_id "
    "WHERE m.practitioner_id = {viewer} AND m.ended_at IS NULL"
)


@cache
def links_sql() -> str:
    links = tables.columns((CircleLink, "l"))
    no_link = ", ".join(f'NULL AS "l__{c}"' for c in CircleLink._meta.fields_db_projection.values())
    return (
        LINKS_SQL.replace("{links}", links)
        .replace("{no_link}", no_link)
        .replace("{others}", tables.columns((Client, "c")))
    )


async def circle_of(
    viewer: Practitioner, client_id: int, linked: list[Membership]
) -> tuple[list[CircleMember], list[Client]]:
    """The linked clients with their teams as `viewer` sees them (`linked`, read with the
    client's own team), and the viewer's own clients that could join this circle (not this
    one, not linked yet): one statement."""
    statement = links_sql().format(client=int(client_id), viewer=int(viewer.id))
    tree = await area_tree()
    links: list[tuple[CircleLink, Client, str]] = []
    own: list[Client] = []
    for row in await connections.get("default").execute_query_dict(statement):
        other = tables.as_model(Client, row, "c")
        other.area = tree.get(other.area_id)  # type: ignore[assignment,attr-defined]
        if row["kind"] == "mine":
            own.append(other)
            continue
        link = tables.as_model(CircleLink, row, "l")
        relationship = link.relationship
        if link.client_b_id == client_id:  # type: ignore[attr-defined]
            relationship = INVERSE.get(relationship, relationship)
        links.append((link, other, relationship))
    links.sort(key=lambda found: found[0].id)
    teams: dict[int, list[Membership]] = {other.id: [] for _, other, _ in links}
    for membership in linked:
        teams[membership.client_id].append(membership)  # type: ignore[attr-defined]
    circle = [
        CircleMember(
            link=link,
            client=other,
            relationship=relationship,
            team=teams[other.id],
            mine=any(m.practitioner_id == viewer.id for m in teams[other.id]),
        )
        for link, other, relationship in links
    ]
    taken = {client_id, *teams}
    own.sort(key=lambda c: (c.family_name, c.given_name, c.id))
    return circle, [c for c in own if c.id not in taken]
