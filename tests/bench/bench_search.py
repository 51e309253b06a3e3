"""Benchmark: client search at statewide scale. Prints latency and recall; asserts nothing.

    .venv/bin/python -m tests.bench.bench_search [--clients 1000000] [--queries 500]
        [--database-url postgres://postgres@127.0.0.1:5432/test]

Loads N fabricated clients (2,000 family × 1,000 given names, 30% with other names, all 79
Victorian councils) into a fresh database, then runs a labelled set of queries — exact,
one-letter typo, typo plus swapped order, swapped order, partial ("mi thom") — exactly as the
search page does: "In your areas" (Brimbank), "Elsewhere in Brimbank Melton", "Elsewhere in
Victoria". Recall: the intended client appears in one of the three groups. Latency: the app's
search (all three groups) and, beside it, the time spent inside the database calls it made.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import string
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from tortoise import connections

from models.areas import Area
from models.clients import Client
from models.search import ClientNameWord
from web.core import db, name_index, search
from web.core.areas import load_areas
from web.demo.names import FAMILY_NAMES, GIVEN_NAMES
from web.demo.rows import POSTING_COLUMNS, insert_rows

CLIENT_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "other_names",
    "birth_date",
    "area_id",
    "sharing_basis",
    "legal_basis",
    "created_at",
)
KINDS = ("exact", "typo", "typo+swap", "swap", "partial")
SYLLABLES = (
    "ka an ar be bo da de di el em fa fi ga ha he hi in jo ke ki la le li lo lu ma me mi mo "
    "na ne ni no nu ol or pa pe po ra re ri ro sa se si so ta te ti to tu va ve vi wa ya yo "
    "za ch sh th son ton ley ner ski ova ian ez as is us"
).split()


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
        rows.append(
            [
                client_id,
                rng.choice(given),
                rng.choice(family),
                other,
                born,
                rng.choice(councils).id,
                "consent",
                "",
                created,
            ]
        )
    started = time.perf_counter()
    batch = 50_000
    for start in range(0, count, batch):
        part = rows[start : start + batch]
        await insert_rows(Client, CLIENT_COLUMNS, part)
        words = {r[0]: name_index.name_words(r[1], r[2], r[3]) for r in part}
        ids = await name_index.word_ids(w for ws in words.values() for w in ws)
        postings, next_id = [], start * 8 + 1
        for r in part:
            for word in sorted(words[r[0]]):
                postings.append([next_id, ids[word], r[5], r[0]])
                next_id += 1
        await insert_rows(ClientNameWord, POSTING_COLUMNS, postings)
    # As autovacuum would: statistics, and (PostgreSQL) a visibility map for index-only scans.
    await connections.get("default").execute_script(
        "VACUUM ANALYZE" if db.dialect() == "postgres" else "ANALYZE"
    )
    print(f"loaded {count:,} clients in {time.perf_counter() - started:.0f} s")
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


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        await fresh_database(url)
        async with db.database(url):
            rows, codes = await load(rng, args.clients)
            brimbank = codes["LGA21180"]
            district = [
                a.id
                for a in await Area.filter(parent__code="AU-VIC-D03", kind="council")
                if a.id != brimbank
            ]
            labelled = queries(rng, rows, args.queries // len(KINDS))
            await name_index.vocabulary()
            timer = Timer()
            app_ms: dict[str, list[float]] = defaultdict(list)
            sql_ms: dict[str, list[float]] = defaultdict(list)
            found: dict[str, list[bool]] = defaultdict(list)
            missed: dict[str, list[int | None]] = defaultdict(list)
            for kind, text, target in labelled:
                query = search.Query(tuple(name_index.query_tokens(text)))
                timer.inside = 0.0
                started = time.perf_counter()
                groups = [
                    await search.search(query, in_areas=[brimbank]),
                    await search.search(query, in_areas=district),
                    await search.search(query, not_in_areas=[brimbank, *district]),
                ]
                elapsed = time.perf_counter() - started
                shown = any(h.client.id == target for g in groups for h in g)
                for key in (kind, "all"):
                    app_ms[key].append(elapsed * 1000)
                    sql_ms[key].append(timer.inside * 1000)
                    found[key].append(shown)
                if not shown:  # missed: was it beyond the 20 a group shows, or not found at all?
                    everyone = await search.search(query, limit=5000)
                    rank = next((i for i, h in enumerate(everyone) if h.client.id == target), None)
                    missed[kind].append(rank)
    print(
        f"\n{db_name(url)}, {args.clients:,} clients, {len(labelled)} queries "
        "(three groups per query, as the page shows them)\n"
    )
    print(f"{'kind':<10} {'recall':>7} {'app p50':>8} {'app p95':>8} {'sql p50':>8} {'sql p95':>8}")
    for key in (*KINDS, "all"):
        print(
            f"{key:<10} {sum(found[key]) / len(found[key]):>7.3f} "
            f"{pct(app_ms[key], 50):>6.1f}ms {pct(app_ms[key], 95):>6.1f}ms "
            f"{pct(sql_ms[key], 50):>6.1f}ms {pct(sql_ms[key], 95):>6.1f}ms"
        )
    for kind, ranks in missed.items():
        beyond = [r for r in ranks if r is not None]
        print(
            f"\n{kind}: {len(ranks)} missed; {len(beyond)} of them matched but ranked below "
            f"equally good matches (median rank {statistics.median(beyond) if beyond else '-'} "
            f"among everyone statewide), {len(ranks) - len(beyond)} not matched at all"
        )


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
