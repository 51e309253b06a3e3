"""Benchmark: the dashboard at 100,000 clients. Prints queries per request and timings.

    .venv/bin/python -m tests.bench.bench_admin_dashboard [--clients 100000] [--runs 15]
        [--database-url postgres://postgres@127.0.0.1:5432/bench]

Bulk-inserts N clients across every Victorian council, each with one to three memberships
(8% discreet, 10% ended, a spread of start dates over two years) and an open attention on
every tenth, then times the four figure queries (`figures`) for Grace's district and for the
whole state. Prints medians of repeated runs, the load average, and the ratio against a
baseline of 1,000 clients loaded the same way: a fixed number of queries, and time that
grows with the rows scanned, not with the number of queries.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tortoise import connections

from models.areas import Area
from models.attentions import Attention
from models.clients import Client
from models.organisations import Organisation
from models.practitioners import Practitioner
from models.teams import Membership
from tests.bench.bench_search import fresh_database
from tests.support import count_queries
from web.admin.dashboard_figures import figures
from web.core import db
from web.core.areas import load_areas
from web.demo.rows import ATTENTION_COLUMNS, CLIENT_COLUMNS, MEMBERSHIP_COLUMNS, insert_rows


async def load(rng: random.Random, count: int) -> None:
    areas = await load_areas("AU-VIC")
    councils = sorted(a.id for a in areas.values() if a.kind == "council")
    staff = []
    for i, area_id in enumerate(councils):
        org = await Organisation.create(name=f"Service {i}", service_type="Health", area_id=area_id)
        for j in range(10):
            staff.append(
                await Practitioner.create(
                    name=f"P {i} {j}", email=f"p{i}.{j}@bench.example", organisation=org
                )
            )
    now = datetime.now(UTC)
    clients, members, attentions = [], [], []
    for cid in range(1, count + 1):
        area_id = rng.choice(councils)
        clients.append([cid, "Given", f"Family{cid}", "", None, 2010, area_id, "consent", "", now])
        for p in rng.sample(staff, rng.randint(1, 3)):
            started = now - timedelta(days=rng.randint(0, 730))
            ended = started + timedelta(days=30) if rng.random() < 0.1 else None
            discreet = rng.random() < 0.08
            members.append([len(members) + 1, cid, p.id, "Role", started, ended, "", None,
                            discreet, started, None if discreet else started])  # fmt: skip
        if cid % 10 == 0:
            attentions.append([len(attentions) + 1, cid, None, "x", "", now, None, None, True])
    for start in range(0, count, 20_000):
        await insert_rows(Client, CLIENT_COLUMNS, clients[start : start + 20_000])
    for start in range(0, len(members), 20_000):
        await insert_rows(Membership, MEMBERSHIP_COLUMNS, members[start : start + 20_000])
    await insert_rows(Attention, ATTENTION_COLUMNS, attentions)
    await connections.get("default").execute_script(
        "VACUUM ANALYZE" if db.dialect() == "postgres" else "ANALYZE"
    )


async def measure(url: str, count: int, runs: int) -> dict[str, tuple[float, int]]:
    await fresh_database(url)
    async with db.database(url):
        await load(random.Random(1), count)
        district = await Area.filter(parent__code="AU-VIC-D03", kind="council")
        state = await Area.filter(kind="council")
        found = {}
        for label, chosen in (("district", district), ("state", state)):
            pairs = [(a.id, a.name) for a in chosen]
            timings = []
            for _ in range(runs):
                with count_queries() as counter:
                    started = time.perf_counter()
                    await figures(pairs)
                    timings.append((time.perf_counter() - started) * 1000)
            found[label] = (statistics.median(timings), len(counter.queries))
        return found


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        fresh = lambda n: url if args.database_url else f"{url}.{n}"  # noqa: E731
        baseline = await measure(fresh(1_000), 1_000, args.runs)
        started = time.perf_counter()
        big = await measure(fresh(args.clients), args.clients, args.runs)
        took = time.perf_counter() - started
    print(f"\n{'PostgreSQL' if url.startswith('postgres') else 'SQLite'}, {args.clients:,} clients "
          f"(load and measure {took:.0f} s), median of {args.runs} runs, "
          f"load average {os.getloadavg()[0]:.2f}\n")  # fmt: skip
    print(
        f"{'selection':<10} {'queries':>7} {'1,000 ms':>9} "
        f"{f'{args.clients:,} ms':>11} {'ratio':>6}"
    )
    for label in ("district", "state"):
        small, large = baseline[label], big[label]
        print(f"{label:<10} {large[1]:>7} {small[0]:>9.1f} {large[0]:>11.1f} "
              f"{large[0] / small[0]:>6.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", default="")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
