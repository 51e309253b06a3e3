"""Benchmark: client search at statewide scale, beside a pg_trgm baseline. Prints figures only.

    .venv/bin/python -m tests.bench.bench_search [--clients 1000000] [--queries 500]
        [--database-url postgres://postgres@127.0.0.1:5432/bench]   # its schema is dropped!

Loads N fabricated clients (2,000 family × 1,000 given names, 30% with other names, all 79
Victorian councils) into a fresh database, then runs labelled queries — exact, one-letter typo,
typo plus swapped order, swapped order, partial ("mi thom") — as the search page asks for its
three groups (one search_groups call): "In your areas" (Brimbank), "Elsewhere in Brimbank
Melton", "Elsewhere in Victoria". Recall: the intended client is in one of the groups; "+year"
also counts it when its own group was full (the page then says "Add a date or year of birth")
and that group, asked again with the client's year of birth, shows it. Latency: all three
groups, and the time spent inside database calls. On PostgreSQL the same queries, groups and
recall rules run against pg_trgm in the same process: a GIN trigram index on the full name,
`%` (similarity) and `<%` (word_similarity) at default thresholds, best first, a group's size.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import statistics
import string
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from tortoise import connections

from models.areas import Area
from models.clients import Client
from models.search import ClientNameWord
from web.core import db, name_index, search
from web.core.areas import load_areas
from web.core.forms import parse_born
from web.demo.names import FAMILY_NAMES, GIVEN_NAMES
from web.demo.rows import CLIENT_COLUMNS, POSTING_COLUMNS, insert_rows

KINDS = ("exact", "typo", "typo+swap", "swap", "partial")
SYLLABLES = (
    "ka an ar be bo da de di el em fa fi ga ha he hi in jo ke ki la le li lo lu ma me mi mo "
    "na ne ni no nu ol or pa pe po ra re ri ro sa se si so ta te ti to tu va ve vi wa ya yo "
    "za ch sh th son ton ley ner ski ova ian ez as is us"
).split()
#: The baseline's full name, indexed as an expression (other_names is '' when there are none).
FULL_NAME = "lower(given_name || ' ' || family_name || ' ' || other_names)"
TRGM = {  # side → (condition, rank); $1 is the query text
    "trgm %": (f"{FULL_NAME} % $1", f"similarity({FULL_NAME}, $1)"),
    "trgm <%": (f"$1 <% {FULL_NAME}", f"word_similarity($1, {FULL_NAME})"),
}


def invent_names(rng: random.Random, real: tuple[str, ...], count: int) -> list[str]:
    names = {n for n in real if " " not in n}
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        names.add(word.capitalize())
    return sorted(names)[:count]


def typo(rng: random.Random, word: str) -> str:
    letters = list(word.lower())
    i = rng.randrange(len(letters))
    kind = rng.choice(("substitute", "delete", "insert", "swap"))
    if kind == "substitute":
        letters[i] = rng.choice([c for c in string.ascii_lowercase if c != letters[i]])
    elif kind == "delete" and len(letters) > 4:
        del letters[i]
    elif kind == "swap" and i + 1 < len(letters) and letters[i] != letters[i + 1]:
        letters[i], letters[i + 1] = letters[i + 1], letters[i]
    else:
        letters.insert(i, rng.choice(string.ascii_lowercase))
    return "".join(letters)


async def fresh_database(url: str) -> None:
    if url.startswith("postgres"):
        connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await connection.close()
    await db.migrate(url)


@functools.cache
def words_of(name: str) -> frozenset[str]:
    """name_index.name_words of one name: it treats each name alone, so the union over a
    client's names is exactly name_words(given, family, other), computed once per name."""
    return frozenset(name_index.name_words(name))


async def load(rng: random.Random, count: int) -> tuple[list[list], dict[str, int]]:
    areas = await load_areas("AU-VIC")
    councils = sorted((a for a in areas.values() if a.kind == "council"), key=lambda a: a.code)
    given = invent_names(rng, GIVEN_NAMES, 1000)
    family = invent_names(rng, FAMILY_NAMES, 2000)
    today = date(2026, 11, 1)
    created = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    for client_id in range(1, count + 1):
        born = today - timedelta(days=rng.randint(0, 50 * 365))
        other = rng.choice(given) if rng.random() < 0.3 else ""
        names = [rng.choice(given), rng.choice(family), other]
        area_id = rng.choice(councils).id
        # As web.demo.rows.CLIENT_COLUMNS: a full date of birth, so no birth_year.
        rows.append([client_id, *names, born, None, area_id, "consent", "", created])
    connection = connections.get("default")
    sqlite = db.dialect() == "sqlite"
    if sqlite:  # while loading only: the posting index soon outgrows the default 2 MB cache
        cache = (await connection.execute_query_dict("PRAGMA cache_size"))[0]["cache_size"]
        await connection.execute_script("PRAGMA cache_size = -262144")
    phases: dict[str, float] = defaultdict(float)
    started = time.perf_counter()
    batch = 100_000
    for start in range(0, count, batch):
        part = rows[start : start + batch]
        mark = time.perf_counter()
        await insert_rows(Client, CLIENT_COLUMNS, part)
        phases["clients"] += time.perf_counter() - mark
        mark = time.perf_counter()
        words = {r[0]: words_of(r[1]) | words_of(r[2]) | words_of(r[3]) for r in part}
        ids = await name_index.word_ids(w for ws in words.values() for w in ws)
        postings, next_id = [], start * 8 + 1
        for r in part:
            for word in sorted(words[r[0]]):
                postings.append([next_id, ids[word], r[6], r[0]])
                next_id += 1
        phases["name words"] += time.perf_counter() - mark
        mark = time.perf_counter()
        await insert_rows(ClientNameWord, POSTING_COLUMNS, postings)
        phases["postings"] += time.perf_counter() - mark
    # As autovacuum would: statistics, and (PostgreSQL) a visibility map for index-only scans.
    mark = time.perf_counter()
    await connection.execute_script("ANALYZE" if sqlite else "VACUUM ANALYZE")
    phases["analyze"] = time.perf_counter() - mark
    if sqlite:
        await connection.execute_script(f"PRAGMA cache_size = {int(cache)}")
    split = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
    print(f"loaded {count:,} clients in {time.perf_counter() - started:.1f} s ({split})")
    return rows, {a.code: a.id for a in councils}


def queries(rng: random.Random, rows: list[list], per_kind: int) -> list[tuple[str, str, int]]:
    made = []
    for kind in KINDS:
        for _ in range(per_kind):
            client_id, given, family, *_ = rng.choice(rows)
            if kind == "exact":
                text = f"{given} {family}"
            elif kind == "typo":
                text = f"{given} {typo(rng, family)}"
            elif kind == "typo+swap":
                text = f"{typo(rng, family)} {given}"
            elif kind == "swap":
                text = f"{family} {given}"
            else:
                text = f"{given[:2]} {family[:4]}"
            made.append((kind, text.lower(), client_id))
    return made


class Timer:
    """Wraps the connection so the time spent inside database calls can be reported."""

    def __init__(self) -> None:
        self.inside = 0.0
        connection = connections.get("default")
        original = connection.execute_query_dict

        async def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.inside += time.perf_counter() - started

        connection.execute_query_dict = timed  # type: ignore[method-assign]


async def groups(
    side: str, text: str, scopes: dict[str, search.Where], born_in: int | None = None
) -> dict[str, list[int]]:
    """Each group's client ids, best first, as `side` finds them: the app in one statement
    (search_groups, as the page asks for its groups), pg_trgm in one a group."""
    if side == "app":
        query = search.Query(tuple(name_index.query_tokens(text)), None, born_in)
        found = await search.search_groups(query, scopes)
        return {name: [hit.client.id for hit in hits] for name, hits in found.items()}
    condition, rank = TRGM[side]
    params: list[object] = [text]
    born = ""
    if born_in is not None:  # as the app filters a year of birth
        params.append(born_in)
        born = " AND (birth_year = $2 OR CAST(EXTRACT(YEAR FROM birth_date) AS INTEGER) = $2)"
    ids = {}
    for name, (in_areas, not_in_areas) in scopes.items():
        numbers = ", ".join(str(int(i)) for i in in_areas or not_in_areas)
        where = f"area_id {'NOT IN' if in_areas is None else 'IN'} ({numbers})"
        rows = await connections.get("default").execute_query_dict(
            "SELECT id, given_name, family_name, other_names, birth_date, birth_year, area_id "
            f"FROM client WHERE {condition} AND {where}{born} ORDER BY {rank} DESC, id "
            f"LIMIT {search.GROUP_SIZE}",
            params,
        )
        ids[name] = [row["id"] for row in rows]
    return ids


async def sizes(sqlite: bool) -> dict[str, int]:
    """Bytes: the whole database and the search's tables, each with its indexes."""
    connection = connections.get("default")
    if sqlite:
        await connection.execute_script("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = await connection.execute_query_dict(
            "SELECT m.tbl_name AS name, SUM(s.pgsize) AS bytes FROM dbstat s "
            "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name"
        )
        found = {row["name"]: int(row["bytes"]) for row in rows}
        pages = await connection.execute_query_dict(
            "SELECT page_count * page_size AS bytes FROM pragma_page_count, pragma_page_size"
        )
        found["database"] = int(pages[0]["bytes"])
        return found
    rows = await connection.execute_query_dict(
        "SELECT pg_database_size(current_database()) AS database, "
        "pg_total_relation_size('client') AS client, "
        "pg_total_relation_size('client_name_word') AS client_name_word, "
        "pg_total_relation_size('name_word') AS name_word"
    )
    return {name: int(value) for name, value in rows[0].items()}


async def trigram_index(size: dict[str, int]) -> float:
    """The baseline's GIN index (seconds to build it); its size goes into `size`."""
    connection = connections.get("default")
    started = time.perf_counter()
    await connection.execute_script(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX bench_client_trgm "
        f"ON client USING gin (({FULL_NAME}) gin_trgm_ops); ANALYZE client"
    )
    seconds = time.perf_counter() - started
    index = await connection.execute_query_dict("SELECT pg_relation_size('bench_client_trgm') b")
    size["trigram index"] = int(index[0]["b"])
    return seconds


async def measure(
    side: str, text: str, target: int, born: date, own: str, scopes: dict, timer: Timer
) -> tuple[float, float, bool, bool]:
    """All three groups: ms, ms inside the database, shown, shown or found by the year step."""
    timer.inside = 0.0
    started = time.perf_counter()
    shown_ids = await groups(side, text, scopes)
    elapsed, inside = time.perf_counter() - started, timer.inside
    shown = found = any(target in ids for ids in shown_ids.values())
    born_in = parse_born(str(born.year))[1]  # the year, as the search form reads it
    if not shown and len(shown_ids[own]) == search.GROUP_SIZE and born_in:
        found = target in (await groups(side, text, {own: scopes[own]}, born_in))[own]
    return elapsed * 1000, inside * 1000, shown, found


async def run(args: argparse.Namespace) -> None:
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        await fresh_database(url)
        async with db.database(url):
            sqlite = db.dialect() == "sqlite"
            rows, codes = await load(rng, args.clients)
            size = await sizes(sqlite)
            sides = ["app"] if sqlite else ["app", *TRGM]
            trgm_seconds = 0.0 if sqlite else await trigram_index(size)
            brimbank = codes["LGA21180"]
            district = [
                a.id
                for a in await Area.filter(parent__code="AU-VIC-D03", kind="council")
                if a.id != brimbank
            ]
            scopes = {  # as web/clients/find.py asks for its three groups: in, not in
                "local": ([brimbank], []),
                "district": (district, []),
                "state": (None, [brimbank, *district]),
            }
            labelled = queries(rng, rows, args.queries // len(KINDS))
            await name_index.vocabulary()
            timer = Timer()
            # side → kind → (ms, ms inside the database, shown, found) a query
            figures = {side: defaultdict(list) for side in sides}
            missed: dict[str, list[int | None]] = defaultdict(list)
            for kind, text, target in labelled:
                born, area_id = rows[target - 1][4], rows[target - 1][6]
                own = next(n for n, (a, _) in scopes.items() if area_id in (a or [area_id]))
                for side in sides:  # interleaved, so a busy moment slows every side alike
                    result = await measure(side, text, target, born, own, scopes, timer)
                    for key in (kind, "all"):
                        figures[side][key].append(result)
                    if side == "app" and not result[2]:  # beyond the 20 shown, or unmatched?
                        query = search.Query(tuple(name_index.query_tokens(text)))
                        everyone = await search.search(query, limit=5000)
                        ranks = (i for i, h in enumerate(everyone) if h.client.id == target)
                        missed[kind].append(next(ranks, None))
    report(args, url, len(labelled), figures, missed)
    if sqlite:
        print(
            "\npg_trgm baseline skipped: SQLite has no pg_trgm. Run it on PostgreSQL, in a "
            "database of its own (its public schema is dropped):\n  createdb -h 127.0.0.1 -U "
            "postgres bench_search && .venv/bin/python -m tests.bench.bench_search "
            "--database-url postgres://postgres@127.0.0.1:5432/bench_search"
        )
    else:
        print(f"\npg_trgm GIN index built in {trgm_seconds:.1f} s")
    print_sizes(size, sqlite)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def report(args, url, count, figures, missed) -> None:
    name = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"\n{name}, {args.clients:,} clients, {count} queries "
        "(three groups per query, as the page shows them)\n"
    )
    print(
        f"{'kind':<10} {'recall':>7} {'+year':>6} {'app p50':>8} {'app p95':>8} "
        f"{'sql p50':>8} {'sql p95':>8}"
    )
    app = figures["app"]
    for key in (*KINDS, "all"):
        ms, sql_ms, shown, found = zip(*app[key], strict=True)
        print(
            f"{key:<10} {share(shown):>7.3f} {share(found):>6.3f} "
            f"{pct(ms, 50):>6.1f}ms {pct(ms, 95):>6.1f}ms "
            f"{pct(sql_ms, 50):>6.1f}ms {pct(sql_ms, 95):>6.1f}ms"
        )
    for kind, ranks in missed.items():
        beyond = [r for r in ranks if r is not None]
        print(
            f"\n{kind}: {len(ranks)} missed; {len(beyond)} of them matched but ranked below "
            f"equally good matches (median rank {statistics.median(beyond) if beyond else '-'} "
            f"among everyone statewide), {len(ranks) - len(beyond)} not matched at all"
        )
    if len(figures) == 1:
        return
    print(
        f"\npg_trgm baseline, same queries and groups: GIN index on {FULL_NAME}; `%` at "
        "similarity_threshold 0.3, `<%` at word_similarity_threshold 0.6; best first, "
        f"{search.GROUP_SIZE} a group. ×app: its p95 / the app's p95 (target ≥ 3).\n"
    )
    head = f"{'recall':>7} {'+year':>6} {'p50':>8} {'p95':>8} {'×app':>6}"
    print(f"{'':<10} {'--- trgm % ---':^39} {'--- trgm <% ---':^39}")
    print(f"{'kind':<10} {head} {head}")
    for key in (*KINDS, "all"):
        line = f"{key:<10}"
        for side in TRGM:
            ms, _, shown, found = zip(*figures[side][key], strict=True)
            ratio = pct(ms, 95) / pct([r[0] for r in app[key]], 95)
            line += (
                f" {share(shown):>7.3f} {share(found):>6.3f} {pct(ms, 50):>6.1f}ms "
                f"{pct(ms, 95):>6.1f}ms {ratio:>5.1f}×"
            )
        print(line)


def print_sizes(size: dict[str, int], sqlite: bool) -> None:
    mb = {name: value / 2**20 for name, value in size.items()}
    search_mb = mb.get("client_name_word", 0) + mb.get("name_word", 0)
    print(
        f"\ndatabase {mb['database']:.0f} MB ({'file' if sqlite else 'pg_database_size'}, after "
        f"loading); each with its indexes: client {mb.get('client', 0):.0f} MB, postings "
        f"(client_name_word) {mb.get('client_name_word', 0):.0f} MB, name_word "
        f"{mb.get('name_word', 0):.1f} MB"
    )
    if "trigram index" in mb:
        trgm = mb["trigram index"]
        print(
            f"search structures: the app's postings + vocabulary {search_mb:.0f} MB, "
            f"pg_trgm's GIN index {trgm:.0f} MB (×{search_mb / trgm:.2f}); a database with "
            f"the baseline instead: {mb['database'] - search_mb + trgm:.0f} MB"
        )


def share(values: Sequence[bool]) -> float:
    return sum(values) / len(values)


def pct(values: Sequence[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
