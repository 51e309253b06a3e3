"""The dashboard's figures: a fixed handful of aggregate queries (GROUP BY council, sums of
CASE WHEN), whatever the deployment's size, and the rule that keeps discreet members hidden.

Each cell (one figure for one council, or one month for one council) counts discreet
memberships only when it aggregates at least five of them; totals are sums of those council
cells, so no selection can be subtracted from another to isolate fewer than five. Figures
drawn from memberships, clients or attentions are then shown as "fewer than 5" from 1 to 4.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections

from models.practitioners import SIGNUP_ANSWERED
from models.teams import Membership
from web.core import clock, db

#: Discreet memberships a cell must aggregate before it counts them.
DISCREET_MINIMUM = 5
#: Cells from 1 to this are shown as "fewer than 5".
SMALL = 4
FEWER = "fewer than 5"
MONTHS = 12
#: When a membership joined, as the team saw it (a member who was discreet joins when they
#: became visible: their discreet time never shows).
JOINED = "(CASE WHEN m.discreet THEN m.started_at ELSE COALESCE(m.visible_since, m.started_at) END)"
ACTIVE = f"p.active AND p.signup_step >= {SIGNUP_ANSWERED}"


@dataclass(frozen=True)
class Month:
    label: str
    short: str
    start: datetime
    end: datetime


def months(count: int = MONTHS) -> list[Month]:
    """The last `count` calendar months in the deployment's zone, the current one ending now."""
    local = clock.local_now()
    starts = []
    for back in range(count - 1, -1, -1):
        year, month = divmod(local.year * 12 + local.month - 1 - back, 12)
        starts.append(local.replace(year=year, month=month + 1, day=1, hour=0, minute=0,
                                    second=0, microsecond=0))  # fmt: skip
    ends = [*starts[1:], local]
    return [
        Month(s.strftime("%B %Y"), s.strftime("%b"), clock.as_local(s), clock.as_local(e))
        for s, e in zip(starts, ends, strict=True)
    ]


class Sql:
    """Parameters for one portable statement: `?n` on SQLite, `$n` on PostgreSQL (numbered,
    so one value may be used twice)."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.sqlite = db.dialect() == "sqlite"

    def __call__(self, value: Any) -> str:
        if isinstance(value, datetime):  # stored as Tortoise stores it (text on SQLite)
            value = Membership._meta.fields_map["started_at"].to_db_value(value, Membership)
        self.values.append(value)
        return f"?{len(self.values)}" if self.sqlite else f"${len(self.values)}"

    def among(self, ids: list[int]) -> str:
        return ", ".join(self(i) for i in ids)

    async def rows(self, sql: str) -> list[dict[str, Any]]:
        return list(await connections.get("default").execute_query_dict(sql, self.values))


def _split(name: str, condition: str) -> list[str]:
    """Visible and discreet memberships meeting `condition`, counted apart."""
    return [
        f"SUM(CASE WHEN {condition} AND NOT m.discreet THEN 1 ELSE 0 END) AS v_{name}",
        f"SUM(CASE WHEN {condition} AND m.discreet THEN 1 ELSE 0 END) AS d_{name}",
    ]


def _clients(name: str, condition: str) -> list[str]:
    """Clients with a visible membership meeting `condition`, and with any."""
    return [
        f"COUNT(DISTINCT CASE WHEN {condition} AND NOT m.discreet THEN m.client_id END) "
        f"AS v_{name}",
        f"COUNT(DISTINCT CASE WHEN {condition} THEN m.client_id END) AS a_{name}",
    ]


async def _memberships(councils: list[int], span: list[Month], since: datetime) -> list[dict]:
    """Per council: visible and discreet memberships (and clients) meeting each condition."""
    q = Sql()
    current = "m.ended_at IS NULL"
    outstanding = f"{current} AND m.checkin_requested_at >= m.last_confirmed_at"
    columns = [
        *_split("members", current),
        *_clients("teams", current),
        *_split("joins", f"{JOINED} >= {q(since)}"),
        *_split("leaves", f"m.ended_at >= {q(since)}"),
        *_split("unconfirmed", outstanding),
    ]
    for i, month in enumerate(span):
        end = q(month.end)
        on_team = f"{JOINED} <= {end} AND (m.ended_at IS NULL OR m.ended_at > {end})"
        columns += _split(f"on_{i}", on_team) + _clients(f"teams_{i}", on_team)
        columns += _split(f"joins_{i}", f"{JOINED} >= {q(month.start)} AND {JOINED} < {end}")
    return await q.rows(
        f"SELECT c.area_id AS area, {', '.join(columns)} FROM membership m "
        f"JOIN client c ON c.id = m.client_id WHERE c.area_id IN ({q.among(councils)}) "
        "GROUP BY c.area_id"
    )


async def _practitioners(councils: list[int], span: list[Month]) -> list[dict]:
    q = Sql()
    theirs = "FROM membership m WHERE m.practitioner_id = p.id"
    columns = [
        f"SUM(CASE WHEN {ACTIVE} THEN 1 ELSE 0 END) AS active",
        f"SUM(CASE WHEN {ACTIVE} AND NOT EXISTS (SELECT 1 {theirs} AND NOT m.discreet) "
        "THEN 1 ELSE 0 END) AS v_never",
    ]
    columns += [
        f"SUM(CASE WHEN {ACTIVE} AND p.created_at <= {q(month.end)} THEN 1 ELSE 0 END) AS p_{i}"
        for i, month in enumerate(span)
    ]
    return await q.rows(
        f"SELECT o.area_id AS area, {', '.join(columns)} FROM practitioner p "
        f"JOIN organisation o ON o.id = p.organisation_id "
        f"WHERE o.area_id IN ({q.among(councils)}) GROUP BY o.area_id"
    )


async def _counted(table: str, councils: list[int]) -> list[dict]:
    q = Sql()
    if table == "organisation":
        return await q.rows(
            f"SELECT area_id AS area, COUNT(*) AS n FROM organisation "
            f"WHERE area_id IN ({q.among(councils)}) GROUP BY area_id"
        )
    return await q.rows(
        "SELECT c.area_id AS area, COUNT(*) AS n FROM attention a "
        "JOIN client c ON c.id = a.client_id "
        f"WHERE a.resolved_at IS NULL AND c.area_id IN ({q.among(councils)}) GROUP BY c.area_id"
    )


def _count(row: dict, name: str) -> int:
    """Visible memberships, plus discreet ones when the cell aggregates enough of them."""
    discreet = int(row.get(f"d_{name}") or 0)
    return int(row.get(f"v_{name}") or 0) + (discreet if discreet >= DISCREET_MINIMUM else 0)


def _teams(row: dict, name: str, members: str) -> int:
    """Clients with a team: counting those whose only members are discreet only when the cell
    aggregates enough discreet memberships."""
    discreet = int(row.get(f"d_{members}") or 0)
    key = "a" if discreet >= DISCREET_MINIMUM else "v"
    return int(row.get(f"{key}_{name}") or 0)


#: The per-council figures, in the table's order: (key, heading, suppressed when small).
FIGURES = (
    ("practitioners", "Active practitioners", False),
    ("organisations", "Organisations", False),
    ("teams", "Clients with a team", True),
    ("average", "Average team size", True),
    ("joins", "Joins, last 30 days", True),
    ("leaves", "Leaves, last 30 days", True),
    ("attentions", "Open attentions", True),
    ("unconfirmed", "Unconfirmed involvements", True),
    ("never_joined", "Signed up, never joined a team", True),
)
#: The growth series: (key, heading, suppressed when small).
SERIES = (
    ("practitioners", "Active practitioners signed up by the month's end", False),
    ("teams", "Clients with a team at the month's end", True),
    ("joins", "Joins in the month", True),
)


@dataclass
class Figures:
    """The selection's figures: one row per council and the total, and the growth series."""

    rows: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    total: dict[str, int] = field(default_factory=dict)
    span: list[Month] = field(default_factory=list)
    growth: dict[str, list[int]] = field(default_factory=dict)


def _council_cells(m: dict, p: dict, orgs: int, attentions: int) -> dict[str, int]:
    return {
        "practitioners": int(p.get("active") or 0),
        "organisations": orgs,
        "teams": _teams(m, "teams", "members"),
        "members": _count(m, "members"),
        "joins": _count(m, "joins"),
        "leaves": _count(m, "leaves"),
        "attentions": attentions,
        "unconfirmed": _count(m, "unconfirmed"),
        # Never counting discreet memberships, as the practitioners list does: the figure is
        # that list's length, and the same whether or not a discreet membership exists.
        "never_joined": int(p.get("v_never") or 0),
    }


async def figures(councils: list[tuple[int, str]]) -> Figures:
    """Every figure for these councils (id, name): four queries whatever their size."""
    span = months()
    result = Figures(span=span, growth={key: [0] * len(span) for key, *_ in SERIES})
    if not councils:
        return result
    ids = [i for i, _name in councils]
    since = clock.now() - timedelta(days=30)
    by_area = lambda rows: {int(r["area"]): r for r in rows}  # noqa: E731
    members = by_area(await _memberships(ids, span, since))
    staff = by_area(await _practitioners(ids, span))
    orgs = by_area(await _counted("organisation", ids))
    attentions = by_area(await _counted("attention", ids))
    for area_id, name in councils:
        m, p = members.get(area_id, {}), staff.get(area_id, {})
        cells = _council_cells(
            m,
            p,
            int(orgs.get(area_id, {}).get("n", 0)),
            int(attentions.get(area_id, {}).get("n", 0)),
        )
        result.rows.append((name, cells))
        for key, value in cells.items():
            result.total[key] = result.total.get(key, 0) + value
        for i in range(len(span)):
            result.growth["practitioners"][i] += int(p.get(f"p_{i}") or 0)
            result.growth["teams"][i] += _teams(m, f"teams_{i}", f"on_{i}")
            result.growth["joins"][i] += _count(m, f"joins_{i}")
    return result


def shown(key: str, cells: dict[str, int], suppressed: bool) -> str:
    """A cell as the page, the CSV and the chart show it."""
    if key == "average":
        teams = cells["teams"]
        if 1 <= teams <= SMALL:
            return FEWER
        return f"{cells['members'] / teams:.1f}" if teams else "none"
    value = cells[key]
    return FEWER if suppressed and 1 <= value <= SMALL else f"{value:,}"
