"""The administration overview's counts per council, and the rollup that keeps them.

`counted` is the one statement that counts them, for any set of councils: memberships (and
clients) per figure and per month, practitioners, organisations and open attentions, discreet
memberships counted apart. The overview runs it live for a small selection; for the rest it
reads `council_figures` (CouncilFigures), which the worker refreshes every few minutes, one
council at a time (`refresh_due`). Both hold the raw sums: the discreet-member rule is applied
on reading (web/admin/dashboard_figures.py), to stored and live counts alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from models.areas import CouncilFigures
from models.practitioners import listed_sql
from models.teams import Membership
from web.core import clock, db
from web.core.areas import area_tree

MONTHS = 12
#: A council's stored counts older than this are counted again by the worker's next pass.
REFRESH_AFTER = timedelta(minutes=4)
#: PostgreSQL advisory lock (with the council's id) held by the worker counting a council.
REFRESH_LOCK = 0x70F16
#: When a membership joined, as the team saw it (a member who was discreet joins when they
#: became visible: their discreet time never shows).
JOINED = "(CASE WHEN m.discreet THEN m.started_at ELSE COALESCE(m.visible_since, m.started_at) END)"
ACTIVE = listed_sql("p")


@dataclass(frozen=True)
class Month:
    label: str
    short: str
    start: datetime
    end: datetime

    @property
    def key(self) -> str:
        return self.start.strftime("%Y-%m")


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


def _split(name: str, condition: str) -> list[tuple[str, str]]:
    """Visible and discreet memberships meeting `condition`, counted apart."""
    return [
        (f"v_{name}", f"SUM(CASE WHEN {condition} AND NOT m.discreet THEN 1 ELSE 0 END)"),
        (f"d_{name}", f"SUM(CASE WHEN {condition} AND m.discreet THEN 1 ELSE 0 END)"),
    ]


def _clients(name: str, condition: str) -> list[tuple[str, str]]:
    """Clients with a visible membership meeting `condition`, and with any."""
    return [
        (
            f"v_{name}",
            f"COUNT(DISTINCT CASE WHEN {condition} AND NOT m.discreet THEN m.client_id END)",
        ),
        (f"a_{name}", f"COUNT(DISTINCT CASE WHEN {condition} THEN m.client_id END)"),
    ]


def _membership_columns(q: Sql, span: list[Month], since: datetime) -> list[tuple[str, str]]:
    current = "m.ended_at IS NULL"
    outstanding = f"{current} AND m.checkin_requested_at >= m.last_confirmed_at"
    after = q(since)
    columns = [
        ("memberships", "COUNT(*)"),
        *_split("members", current),
        *_clients("teams", current),
        *_split("joins", f"m.joined >= {after}"),
        *_split("leaves", f"m.ended_at >= {after}"),
        *_split("unconfirmed", outstanding),
    ]
    for i, month in enumerate(span):
        end = q(month.end)
        on_team = f"m.joined <= {end} AND (m.ended_at IS NULL OR m.ended_at > {end})"
        columns += _split(f"on_{i}", on_team) + _clients(f"teams_{i}", on_team)
        columns += _split(f"joins_{i}", f"m.joined >= {q(month.start)} AND m.joined < {end}")
    return columns


async def counted(councils: list[int], span: list[Month], since: datetime) -> dict[int, dict]:
    """The raw sums for each of these councils (by id), in one statement."""
    if not councils:
        return {}
    q = Sql()
    member = _membership_columns(q, span, since)
    among = q.among(councils)
    theirs = "FROM membership m WHERE m.practitioner_id = p.id"
    staff = [
        ("active", f"SUM(CASE WHEN {ACTIVE} THEN 1 ELSE 0 END)"),
        ("v_never", f"SUM(CASE WHEN {ACTIVE} AND NOT EXISTS (SELECT 1 {theirs} "
                    "AND NOT m.discreet) THEN 1 ELSE 0 END)"),
        *((f"p_{i}", f"SUM(CASE WHEN {ACTIVE} AND p.created_at <= {q(month.end)} "
                     "THEN 1 ELSE 0 END)") for i, month in enumerate(span)),
    ]  # fmt: skip
    rows = await q.rows(
        f"WITH mm AS (SELECT c.area_id AS m_area, "
        f"{', '.join(f'{sql} AS {name}' for name, sql in member)} FROM (SELECT m.client_id, "
        "m.discreet, m.ended_at, m.checkin_requested_at, m.last_confirmed_at, "
        f"{JOINED} AS joined FROM membership m) m JOIN client c ON c.id = m.client_id "
        f"WHERE c.area_id IN ({among}) GROUP BY c.area_id), "
        f"pp AS (SELECT o.area_id AS p_area, {', '.join(f'{s} AS {n}' for n, s in staff)} "
        "FROM practitioner p JOIN organisation o ON o.id = p.organisation_id "
        f"WHERE o.area_id IN ({among}) GROUP BY o.area_id), "
        "oo AS (SELECT area_id AS o_area, COUNT(*) AS organisations FROM organisation "
        f"WHERE area_id IN ({among}) GROUP BY area_id), "
        "aa AS (SELECT c.area_id AS a_area, COUNT(*) AS attentions FROM attention a "
        "JOIN client c ON c.id = a.client_id "
        f"WHERE a.resolved_at IS NULL AND c.area_id IN ({among}) GROUP BY c.area_id) "
        "SELECT ar.id AS area, mm.*, pp.*, oo.*, aa.* FROM area ar "
        "LEFT JOIN mm ON mm.m_area = ar.id LEFT JOIN pp ON pp.p_area = ar.id "
        "LEFT JOIN oo ON oo.o_area = ar.id LEFT JOIN aa ON aa.a_area = ar.id "
        f"WHERE ar.id IN ({among})"
    )
    return {
        int(row["area"]): {k: int(v or 0) for k, v in row.items() if not k.endswith("area")}
        for row in rows
    }


#: A cell of one month of the span: its name, then the month's place ("v_on_3", "p_11").
MONTHLY = re.compile(r"^(.+)_(\d+)$")


def carried_over(cells: dict[str, int]) -> dict[str, int]:
    """Sums counted for the span of months that ended at the last month's turn, read for the
    span that began (the worker counts every council again within minutes of it): each
    month's cells one place earlier, and the new month as it stood when they were counted,
    before it began: who was on a team then, no join yet, the active practitioners."""
    moved: dict[str, int] = {}
    for name, value in cells.items():
        found = MONTHLY.match(name)
        if found is None:
            moved[name] = value
        elif int(found[2]) > 0:
            moved[f"{found[1]}_{int(found[2]) - 1}"] = value
    last = MONTHS - 1
    for side in ("v", "d"):
        moved[f"{side}_on_{last}"] = cells.get(f"{side}_members", 0)
        moved[f"{side}_joins_{last}"] = 0
    for side in ("v", "a"):
        moved[f"{side}_teams_{last}"] = cells.get(f"{side}_teams", 0)
    moved[f"p_{last}"] = cells.get("active", 0)
    return moved


async def refresh(area_id: int, span: list[Month] | None = None) -> None:
    """Count one council again and store it (its row made or replaced)."""
    span = span or months()
    moment = clock.now()
    cells = (await counted([area_id], span, moment - timedelta(days=30)))[area_id]
    values = {
        "counted_at": moment,
        "first_month": span[0].key,
        "memberships": cells.get("memberships", 0),
        "cells": cells,
    }
    await CouncilFigures.update_or_create(defaults=values, area_id=area_id)


async def refresh_due(older_than: timedelta = REFRESH_AFTER) -> int:
    """The worker's pass: count again every council whose stored counts are missing, of
    another span of months, or older than `older_than`, the oldest first. Several workers may
    run it: each council is counted under its own lock, and one just counted is skipped."""
    span = months()
    kept = await CouncilFigures.all().only("area_id", "counted_at", "first_month")
    stored = {row.area_id: row for row in kept}
    oldest = datetime.min.replace(tzinfo=clock.now().tzinfo)
    councils = sorted(
        (a.id for a in (await area_tree()).of_kind("council")),
        key=lambda i: stored[i].counted_at if i in stored else oldest,
    )
    done = 0
    for area_id in councils:
        async with in_transaction() as connection:
            if db.dialect() == "postgres":
                # Counting one council is costly enough for PostgreSQL to compile it (JIT),
                # which takes longer than the count itself.
                await connection.execute_query("SET LOCAL jit = off")
                got = await connection.execute_query_dict(
                    "SELECT pg_try_advisory_xact_lock($1, $2) AS got", [REFRESH_LOCK, area_id]
                )
                if not got[0]["got"]:
                    continue
            row = await CouncilFigures.filter(area_id=area_id).using_db(connection).first()
            if row and row.first_month == span[0].key and row.counted_at > clock.now() - older_than:
                continue
            await refresh(area_id, span)
            done += 1
    return done
