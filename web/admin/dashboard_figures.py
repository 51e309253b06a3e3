"""The dashboard's figures, and the rule that keeps discreet members hidden.

Each cell (one figure for one council, or one month for one council) counts discreet
memberships only when it aggregates at least five of them; totals are sums of those council
cells, so no selection can be subtracted from another to isolate fewer than five. Figures
drawn from memberships, clients or attentions are then shown as "fewer than 5" from 1 to 4.

The raw sums per council come from web/core/council_figures: counted live for a small
selection (LIVE_UP_TO memberships at most, by their last count, and any council not counted
yet), else as the worker last stored them, a few minutes old ("Figures as of"). Either way
the rule above is applied here, to each council's sums, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models.areas import CouncilFigures
from web.core import clock
from web.core.council_figures import MONTHS, Month, Sql, carried_over, counted, months

#: Discreet memberships a cell must aggregate before it counts them.
DISCREET_MINIMUM = 5
#: Cells from 1 to this are shown as "fewer than 5".
SMALL = 4
FEWER = "fewer than 5"
#: The most memberships (by the councils' last stored counts) a selection counts live.
LIVE_UP_TO = 2_000


@dataclass(frozen=True)
class Stored:
    """What one statement reads: the councils' stored sums, and retention's last run."""

    councils: dict[int, tuple[datetime, str, int, dict[str, int]]]
    retention: tuple[datetime, dict[str, Any]] | None


def _value(model: Any, name: str, raw: Any) -> Any:
    return model._meta.fields_map[name].to_python_value(raw)


async def stored(councils: list[int]) -> Stored:
    """The stored sums of these councils and retention's newest event, in one statement."""
    q = Sql()
    among = f"area_id IN ({q.among(councils)})" if councils else "1 = 0"
    rows = await q.rows(
        "SELECT area_id AS area, counted_at AS at, first_month, memberships, cells AS detail "
        f"FROM council_figures WHERE {among} UNION ALL "
        "SELECT * FROM (SELECT CAST(NULL AS INTEGER) AS area, at, '' AS first_month, "
        "0 AS memberships, detail "
        f"FROM audit_event WHERE action = {q('job.retention')} ORDER BY at DESC, id DESC "
        "LIMIT 1) AS newest"
    )
    found, retention = {}, None
    for row in rows:
        at = _value(CouncilFigures, "counted_at", row["at"])
        detail = _value(CouncilFigures, "cells", row["detail"])
        if row["area"] is None:
            retention = (at, detail)
        else:
            found[int(row["area"])] = (at, str(row["first_month"]), int(row["memberships"]), detail)
    return Stored(found, retention)


async def sums(
    councils: list[int], span: list[Month]
) -> tuple[dict[int, dict], Stored, datetime | None]:
    """Each council's raw sums, live or stored (see the module's docstring), what `stored`
    read, and when the oldest stored sums used were counted (None: all live)."""
    kept = await stored(councils)
    usable = {i: row for i, row in kept.councils.items() if row[1] == span[0].key}
    # Counted before this month began (the worker is counting again): carried over.
    before = months(MONTHS + 1)[0].key
    usable.update(
        (i, (at, key, size, carried_over(cells)))
        for i, (at, key, size, cells) in kept.councils.items()
        if key == before and len(span) == MONTHS
    )
    live = [i for i in councils if i not in usable]
    room = LIVE_UP_TO
    for i in sorted(usable, key=lambda i: usable[i][2]):
        if usable[i][2] > room:
            break
        live.append(i)
        room -= usable[i][2]
    found = await counted(live, span, clock.now() - timedelta(days=30)) if live else {}
    used = [i for i in councils if i not in found and i in usable]
    found.update({i: usable[i][3] for i in used})
    return found, kept, min((usable[i][0] for i in used), default=None)


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
    #: When the oldest stored sums shown were counted (None: all counted as the page asked).
    as_of: datetime | None = None
    #: Retention's newest run: when, and what it removed.
    retention: tuple[datetime, dict[str, Any]] | None = None


def _council_cells(m: dict) -> dict[str, int]:
    return {
        "practitioners": int(m.get("active") or 0),
        "organisations": int(m.get("organisations") or 0),
        "teams": _teams(m, "teams", "members"),
        "members": _count(m, "members"),
        "joins": _count(m, "joins"),
        "leaves": _count(m, "leaves"),
        "attentions": int(m.get("attentions") or 0),
        "unconfirmed": _count(m, "unconfirmed"),
        # Never counting discreet memberships, as the practitioners list does: the figure is
        # that list's length, and the same whether or not a discreet membership exists.
        "never_joined": int(m.get("v_never") or 0),
    }


async def figures(councils: list[tuple[int, str]]) -> Figures:
    """Every figure for these councils (id, name): two statements at most, whatever their
    size (one when every council's stored sums serve)."""
    span = months()
    result = Figures(span=span, growth={key: [0] * len(span) for key, *_ in SERIES})
    by_area, kept, result.as_of = await sums([i for i, _name in councils], span)
    result.retention = kept.retention
    for area_id, name in councils:
        row = by_area.get(area_id, {})
        cells = _council_cells(row)
        result.rows.append((name, cells))
        for key, value in cells.items():
            result.total[key] = result.total.get(key, 0) + value
        for i in range(len(span)):
            result.growth["practitioners"][i] += int(row.get(f"p_{i}") or 0)
            result.growth["teams"][i] += _teams(row, f"teams_{i}", f"on_{i}")
            result.growth["joins"][i] += _count(row, f"joins_{i}")
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
