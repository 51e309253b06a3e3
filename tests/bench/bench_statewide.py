"""Benchmark: the demo at statewide size (issue 18, item 4). Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_statewide --database-url URL
        [--clients 1000000] [--practitioners 30000] [--runs 30] [--reuse]

Loads the demo deployment (`load-demo --clients N --practitioners M`) into URL, emptied
first (PostgreSQL: its `public` schema is dropped; give it a database of its own), or, with
`--reuse`, uses the demo already there. Then, in-process (httpx ASGITransport against
create_app, the database at URL), signed in through the real link flow, it asks each page
`--runs` times after one warm-up: as Priya, the dashboard, Mia's team page, a client
search, the one search box with a word that finds colleagues and services but no client,
and the phone book; as Grace (local administrator) and Morgan (state administrator), the
administration overview. Before the pages it counts every council's figures again as the worker does
(`council_figures.refresh_due`, all of them, however fresh), timed: the overview reads those
stored counts for a selection this large. It prints the median and p95 time of each request
(the app's own time: no network, no proxy), the SQL statements it sent beside its route's
budget (web/core/budgets.py), the load time, the worker's counting time, the database's size
and the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
from tortoise import connections

from models.clients import Client
from models.practitioners import Practitioner
from models.teams import Membership
from tests.bench.bench_search import fresh_database
from tests.web.helpers import sign_in
from web.core import budgets, council_figures, db
from web.core.settings import load
from web.demo.fabricate import load_demo

SEARCH_RATE = "1000000"  # every search is counted, none refused (as in bench_pages)
PEOPLE = {
    "priya": "priya.nair@brimbank.example",
    "grace": "grace.okafor@mav.example",
    "morgan": "morgan.reid@mav.example",
}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def budget(endpoint_name: str) -> int | None:
    module, _, name = endpoint_name.rpartition(".")
    return budgets.budget_of(getattr(importlib.import_module(module), name, None))


async def database_size(url: str) -> str:
    if db.dialect() == "postgres":
        rows = await connections.get("default").execute_query_dict(
            "SELECT pg_size_pretty(pg_database_size(current_database())) AS size, "
            "current_setting('server_version') AS version"
        )
        return f"{rows[0]['size']} (PostgreSQL {rows[0]['version']})"
    path = Path(url.removeprefix("sqlite://"))
    return f"{path.stat().st_size / 1e6:,.0f} MB (SQLite)"


async def measure(url: str, runs: int) -> list[tuple[str, str, list[float], int, int | None]]:
    from web.app import create_app

    over = budgets.start_counting()  # before create_app, so the app counts each request
    settings = load(
        {"DATABASE_URL": url, "SEARCH_RATE_PER_HOUR": SEARCH_RATE, "RUN_WORKER_IN_WEB": "false"}
    )
    app = create_app(settings)
    mia = await Client.get(given_name="Mia", family_name="Thompson", other_names="Mimi")
    pages = [
        ("priya", "dashboard `/`", "/"),
        ("priya", "Mia's team page", f"/clients/{mia.id}"),
        ("priya", "search `?q=mia+thompson`", "/clients/search?q=mia+thompson"),
        ("priya", "search `?q=nurse` (colleagues, no client)", "/clients/search?q=nurse"),
        ("priya", "phone book `/people?q=nurse`", "/people?q=nurse"),
        ("grace", "admin `/admin` (Grace, local)", "/admin"),
        ("morgan", "admin `/admin` (Morgan, state)", "/admin"),
    ]
    found = []
    for who, label, path in pages:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
        ) as http:
            await sign_in(http, await Practitioner.get(email=PEOPLE[who]))
            first = await http.get(path)  # warm-up: caches as a running server has them
            if first.status_code != 200:
                sys.exit(f"{label} answered {first.status_code}")
            timings = []
            budgets.MOST.clear()  # from here on, only this page's requests
            for _ in range(runs):
                started = time.perf_counter()
                response = await http.get(path)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (label, response.status_code)
            # The endpoint this page ran, and the most statements one of its requests sent.
            (name,) = budgets.MOST
            found.append((who, label, timings, budgets.MOST[name], budget(name)))
    if over:
        print("Over budget:\n" + "\n".join(str(o).splitlines()[0] for o in over))
    return found


async def run(args: argparse.Namespace) -> None:
    print(f"load average before: {load_average()} ({os.cpu_count()} CPUs)", flush=True)
    took = None
    if not args.reuse:
        await fresh_database(args.database_url)
    async with db.database(args.database_url):
        if not args.reuse:
            started = time.perf_counter()
            await load_demo(
                "AU-VIC", clients=args.clients, seed=1, practitioners=args.practitioners
            )
            took = time.perf_counter() - started
            print(f"loaded in {took:.0f} s; load average {load_average()}", flush=True)
        counts = (
            await Client.all().count(),
            await Practitioner.all().count(),
            await Membership.all().count(),
        )
        started = time.perf_counter()
        recounted = await council_figures.refresh_due(older_than=timedelta(0))
        rollup = time.perf_counter() - started
        print(f"counted {recounted} councils in {rollup:.1f} s; load average {load_average()}")
        size = await database_size(args.database_url)
        found = await measure(args.database_url, args.runs)
    print(f"load average after:  {load_average()}")
    print(f"\n{counts[0]:,} clients, {counts[1]:,} practitioners, {counts[2]:,} memberships")
    print(f"database size {size}")
    print(f"load time {f'{took:.0f} s' if took is not None else 'not measured (--reuse)'}")
    print(f"the worker's pass counting every council: {recounted} in {rollup:.1f} s")
    print(f"Python {sys.version.split()[0]}, {args.runs} runs after one warm-up, in-process\n")
    print("| request | median ms | p95 ms | SQL statements (budget) | under 50 ms at p95 |")
    print("|---|---:|---:|---:|---|")
    for _who, label, timings, statements, limit in found:
        print(
            f"| {label} | {statistics.median(timings):.1f} | {p95(timings):.1f} "
            f"| {statements} ({limit if limit is not None else '?'}) "
            f"| {'yes' if p95(timings) < 50 else 'NO'} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--practitioners", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure the demo already there")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
