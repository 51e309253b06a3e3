"""The dashboard's cards: every team a practitioner is on, in one statement whatever their
number. Its count of visible members is access.visible_sql."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from tortoise import connections

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import access, tables
from web.core.areas import area_tree


@dataclass(frozen=True)
class ClientCard:
    client: Client
    membership: Membership
    visible_members: int
    open_attentions: int


#: The teams a practitioner is on, each with its client, how many members they can see and how
#: many attentions are open: one statement.
MY_CLIENTS_SQL = (
    "SELECT {columns}, "
    "(SELECT COUNT(*) FROM membership v WHERE v.client_id = m.client_id AND {visible}) "
    "AS visible_members, "
    "(SELECT COUNT(*) FROM attention a WHERE a.client_id = m.client_id "
    "AND a.resolved_at IS NULL) AS open_attentions "
    "FROM membership m JOIN client c ON c.id = m.client_id "
    "WHERE m.practitioner_id = {viewer} AND m.ended_at IS NULL "
    "ORDER BY c.family_name, c.given_name, m.client_id"
)


@cache
def card_columns() -> str:
    return tables.columns((Membership, "m"), (Client, "c"))


async def my_clients(practitioner: Practitioner) -> list[ClientCard]:
    """Cards for the teams `practitioner` is on, in one statement whatever their number."""
    statement = MY_CLIENTS_SQL.format(
        columns=card_columns(),
        visible=access.visible_sql("v", practitioner.id),
        viewer=int(practitioner.id),
    )
    rows = await connections.get("default").execute_query_dict(statement)
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
