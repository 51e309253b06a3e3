"""The dashboard's cards: every team a practitioner is on, in one statement whatever their
number. Its count of visible members is access.visible_to's rule, written in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tortoise import connections

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import tables
from web.core.areas import area_tree


@dataclass(frozen=True)
class ClientCard:
    client: Client
    membership: Membership
    visible_members: int
    open_attentions: int


#: The teams a practitioner is on, each with its client, how many members they can see and how
#: many attentions are open: one statement, written once.
MY_CLIENTS_SQL = (
    "SELECT {columns}, "
    "(SELECT COUNT(*) FROM membership v WHERE v.client_id = m.client_id AND v.ended_at IS NULL "
    "AND (v.discreet = false OR v.practitioner_id = {viewer})) AS visible_members, "
    "(SELECT COUNT(*) FROM attention a WHERE a.client_id = m.client_id "
    "AND a.resolved_at IS NULL) AS open_attentions "
    "FROM membership m JOIN client c ON c.id = m.client_id "
    "WHERE m.practitioner_id = {viewer_again} AND m.ended_at IS NULL "
    "ORDER BY c.family_name, c.given_name, m.client_id"
)


@cache
def my_clients_sql(sqlite: bool) -> str:
    return MY_CLIENTS_SQL.format(
        columns=tables.columns((Membership, "m"), (Client, "c")),
        viewer="?" if sqlite else "$1",
        viewer_again="?" if sqlite else "$1",
    )


async def my_clients(practitioner: Practitioner) -> list[ClientCard]:
    """Cards for the teams `practitioner` is on, in one statement whatever their number."""
    sqlite = tables.dialect() == "sqlite"
    rows = await connections.get("default").execute_query_dict(
        my_clients_sql(sqlite), [practitioner.id, practitioner.id] if sqlite else [practitioner.id]
    )
    tree = await area_tree()
    cards = []
    for row in rows:
        membership = tables.as_model(Membership, row, "m")
        client = tables.as_model(Client, row, "c")
        client.area = tree.get(client.area_id)  # type: ignore[assignment,attr-defined]
        membership.client = client
        cards.append(
            ClientCard(
                client=client,
                membership=membership,
                visible_members=int(row["visible_members"]),
                open_attentions=int(row["open_attentions"]),
            )
        )
    return cards
