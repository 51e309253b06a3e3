"""The dashboard's cards: every team a practitioner is on, in one statement whatever their
number, ordered (and filtered) in that statement. Its count of visible members is
access.visible_sql, and what it counts as activity is only what the viewer may see happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache

from tortoise import connections

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import access, clock, tables
from web.core.areas import area_tree

#: How the cards may be ordered, the dashboard's default first: open attentions and your own
#: unconfirmed involvement on top, then the rest by their latest activity.
SORTS = ("urgent", "recent", "name")
#: Activity this recent puts a card above the rest (below the urgent ones).
RECENT_DAYS = 14


@dataclass(frozen=True)
class ClientCard:
    client: Client
    membership: Membership
    visible_members: int
    open_attentions: int
    #: The latest moment the viewer may see on the team: a join, a departure, contact, an
    #: attention raised or resolved (never anything of a discreet member's).
    last_activity: datetime | None = None
    #: Their own involvement is due to be confirmed (a check-in is waiting for them).
    confirm_due: bool = False
    #: Unconfirmed for so long that the team sees "not confirmed".
    lapsed: bool = False
    #: Activity in the last RECENT_DAYS (what ranks a card that is not urgent above the rest).
    recent: bool = False
    #: How many teams they are on, whatever the filter.
    teams: int = 0
    #: The team's lead professional (never discreet), if it has one.
    lead_name: str | None = None

    @property
    def urgent(self) -> bool:
        """On top of the dashboard: open attentions, or an involvement to confirm."""
        return self.open_attentions > 0 or self.confirm_due

    @property
    def last_activity_on(self) -> date | None:
        """The day of the latest activity, in the deployment's time zone."""
        return clock.as_local(self.last_activity).date() if self.last_activity else None


#: What the viewer may see happen on a team, as moments: members joining (from when the team
#: saw them) and leaving, their contact (none from while they were discreet), attentions
#: raised and resolved, what History shows besides (TeamEvent: only visible members act
#: there). Nothing of a discreet member's, so the order gives no one away.
ACTIVITY_SQL = (
    "SELECT CASE WHEN e.practitioner_id = {viewer} THEN e.started_at "
    "ELSE COALESCE(e.visible_since, e.started_at) END AS at FROM membership e "
    "WHERE e.client_id = m.client_id AND {shown_e} "
    "UNION ALL SELECT e.ended_at FROM membership e WHERE e.client_id = m.client_id "
    "AND {shown_e} AND e.ended_at IS NOT NULL "
    "UNION ALL SELECT e.last_contact_on FROM membership e WHERE e.client_id = m.client_id "
    "AND {visible_e} AND (e.practitioner_id = {viewer} OR e.visible_since IS NULL "
    "OR e.last_contact_on >= e.visible_since) "
    "UNION ALL SELECT a.created_at FROM attention a WHERE a.client_id = m.client_id "
    "UNION ALL SELECT a.resolved_at FROM attention a WHERE a.client_id = m.client_id "
    "UNION ALL SELECT t.at FROM team_event t WHERE t.client_id = m.client_id"
)

#: The teams a practitioner is on, each with its client, how many members they can see, how
#: many attentions are open and the latest activity, ranked (0 urgent, 1 recent, 2 the rest),
#: filtered and ordered: one statement, the same text for SQLite and PostgreSQL.
MY_CLIENTS_SQL = (
    "SELECT * FROM (SELECT card.*, CASE WHEN card.open_attentions > 0 "
    'OR card."m__last_confirmed_at" < {due} THEN 0 '
    "WHEN card.last_activity >= {recent} THEN 1 ELSE 2 END AS tier FROM ("
    "SELECT {columns}, "
    "(SELECT COUNT(*) FROM membership v WHERE v.client_id = m.client_id AND {visible}) "
    "AS visible_members, "
    "(SELECT COUNT(*) FROM attention a WHERE a.client_id = m.client_id "
    "AND a.resolved_at IS NULL) AS open_attentions, "
    "(SELECT MAX(t.at) FROM ({activity}) t) AS last_activity, "
    "(SELECT p.name FROM membership l JOIN practitioner p ON p.id = l.practitioner_id "
    "WHERE l.client_id = m.client_id AND l.lead AND l.ended_at IS NULL AND NOT l.discreet "
    "AND p.active) "
    "AS lead_name, "
    "COUNT(*) OVER () AS teams "
    "FROM membership m JOIN client c ON c.id = m.client_id "
    "WHERE m.practitioner_id = {viewer} AND m.ended_at IS NULL) card) ranked "
    "{where}ORDER BY {order}"
)

NAMES = 'ranked."c__family_name", ranked."c__given_name", ranked."m__client_id"'
#: Each sort's ORDER BY. NULLs sort differently in the two databases, so no key leaves one to
#: chance: the last activity is never null (their own join is one).
ORDERS = {
    "urgent": "ranked.tier, ranked.open_attentions DESC, "
    'CASE WHEN ranked."m__last_confirmed_at" < {due} THEN 0 ELSE 1 END, '
    "ranked.last_activity DESC, " + NAMES,
    "recent": "CASE WHEN ranked.last_activity IS NULL THEN 1 ELSE 0 END, "
    "ranked.last_activity DESC, " + NAMES,
    "name": NAMES,
}


@cache
def card_columns() -> str:
    return tables.columns((Membership, "m"), (Client, "c"))


def moment_sql(moment: datetime) -> str:
    """A moment as an SQL literal that both databases compare with their own: the text SQLite
    keeps (Tortoise's adapter writes isoformat with a space, in UTC) and PostgreSQL casts."""
    return "'" + moment.astimezone(UTC).isoformat(" ") + "'"


def my_clients_sql(
    viewer_id: int, sort: str, only_attentions: bool, due: datetime, recent: datetime
) -> str:
    """The statement for `my_clients` (an unknown sort is the default)."""
    due_sql = moment_sql(due)
    return MY_CLIENTS_SQL.format(
        columns=card_columns(),
        visible=access.visible_sql("v", viewer_id),
        activity=ACTIVITY_SQL.format(
            viewer=int(viewer_id),
            visible_e=access.visible_sql("e", viewer_id),
            shown_e=access.shown_sql("e", viewer_id),
        ),
        viewer=int(viewer_id),
        due=due_sql,
        recent=moment_sql(recent),
        where="WHERE ranked.open_attentions > 0 " if only_attentions else "",
        order=ORDERS.get(sort, ORDERS[SORTS[0]]).format(due=due_sql),
    )


async def my_clients(
    practitioner: Practitioner,
    sort: str = "name",
    only_attentions: bool = False,
    checkin_days: int = 90,
) -> list[ClientCard]:
    """Cards for the teams `practitioner` is on, in one statement whatever their number:
    ordered by `sort` (one of SORTS), only those with open attentions if asked."""
    moment = clock.now()
    due = moment - timedelta(days=checkin_days)
    lapsed = moment - timedelta(days=checkin_days + access.GRACE_DAYS)
    since = moment - timedelta(days=RECENT_DAYS)
    statement = my_clients_sql(practitioner.id, sort, only_attentions, due, since)
    rows = await connections.get("default").execute_query_dict(statement)
    tree = await area_tree()
    cards = []
    for row in rows:
        membership = tables.as_model(Membership, row, "m")
        client = tables.as_model(Client, row, "c")
        client.area = tree.get(client.area_id)  # type: ignore[assignment,attr-defined]
        membership.client = client
        last_activity = tables.moment(row["last_activity"])
        cards.append(
            ClientCard(
                client=client,
                membership=membership,
                visible_members=int(row["visible_members"]),
                open_attentions=int(row["open_attentions"]),
                last_activity=last_activity,
                confirm_due=membership.last_confirmed_at < due,
                lapsed=membership.last_confirmed_at < lapsed,
                recent=last_activity is not None and last_activity >= since,
                teams=int(row["teams"]),
                lead_name=row["lead_name"],
            )
        )
    return cards
