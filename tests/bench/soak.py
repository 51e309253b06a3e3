"""Soak: the demo on PostgreSQL with two web processes and a delivery worker, under steady load
across the main pages and actions, watching for errors and for memory that grows. Prints
figures (a Markdown table for docs/PERFORMANCE.md); asserts nothing.

    createdb -h 127.0.0.1 -U postgres soak      # its public schema is dropped and made again
    .venv/bin/python -m tests.bench.soak --database-url postgres://postgres@127.0.0.1:5432/soak
        [--minutes 5] [--connections 64] [--web 2]

It migrates the database and loads the demo (`python -m web migrate`, `load-demo`), starts
`--web` web processes and one worker (`python -m web serve` / `worker`, as the Procfile runs
them) with an SMTP server that takes every email, signs in `--connections` practitioners who
are on teams through the real link flow, and gives each one connection that, for `--minutes`,
keeps doing what practitioners do, spread over both web processes: "Your clients", one of
their clients' team pages, a client search, notifications, raising an attention, joining a
client's team from a search result and leaving it again. Every request counts: 5xx answers
and failed connections are errors (target 0); 429s, the product's limits saying no, are shown
apart. Memory is each process's resident set (VmRSS) after a warm-up (`--warm-up`, 60 s:
caches fill), every 30 s, and at the end (target: within 10%). At the end the outbox must
drain with nothing failed.

The client search limit (SEARCH_RATE_PER_HOUR) is set to 1,000,000, as in tests/bench/
bench_pages.py: the limit is still checked and recorded on every search, it refuses none.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from tests.processes import ROOT, Fleet, environ
from tests.support import SmtpServer

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
JOIN = re.compile(r'href="(/clients/\d+/join\?ref=[^"]+)"')
#: What each connection does next, and how often (weights).
ACTIONS = {"dashboard": 25, "team": 30, "search": 20, "notifications": 10, "attention": 5}
ACTIONS["join and leave"] = 10


@dataclass
class User:
    http: httpx.AsyncClient
    clients: list[int]
    strangers: list[str]  # names of clients not on their teams, to search for and join
    token: str = ""


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=dict)

    def add(self, kind: str, started: float, status: int) -> None:
        self.statuses[status] += 1
        self.times.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        if status >= 500:
            self.errors[f"{status} on {kind}"] += 1


def run(*command: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "web", *command], cwd=ROOT, env=env)
    if done.returncode:
        sys.exit(f"python -m web {' '.join(command)} exited {done.returncode}")


async def users_and_tokens(url: str, count: int) -> list[tuple[str, list[int], list[str]]]:
    """Practitioners on two or more teams (their sign-in link's token, their clients, names of
    clients they are not on), made through the app's own code."""
    from models.clients import Client
    from models.practitioners import Practitioner
    from models.teams import Membership
    from web.core import db
    from web.core.signins import create_signin_token

    found = []
    async with db.database(url):
        for practitioner in await Practitioner.filter(active=True).order_by("id"):
            mine = await Membership.filter(
                practitioner=practitioner, ended_at__isnull=True
            ).values_list("client_id", flat=True)
            if len(mine) < 2:
                continue
            others = await Client.exclude(id__in=list(mine)).limit(40).order_by("id")
            names = [f"{c.given_name} {c.family_name}" for c in others]
            found.append((await create_signin_token(practitioner), list(mine), names))
            if len(found) == count:
                break
    return found


async def signed_in(base: str, token: str) -> httpx.AsyncClient:
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them, else a request
    # sent on one as the server closes it fails in the client (a race, not a server error).
    limits = httpx.Limits(keepalive_expiry=1.0)
    http = httpx.AsyncClient(timeout=30, headers={"accept": "text/html"}, limits=limits)
    page = await http.get(f"{base}/signin")
    answer = await http.post(
        f"{base}/signin/link", data={"token": token, "csrf_token": csrf(page.text)}
    )
    if answer.status_code != 303:
        sys.exit(f"signing in answered {answer.status_code}")
    return http


def csrf(html: str) -> str:
    found = CSRF.search(html)
    return found.group(1) if found else ""


async def act(user: User, bases: list[str], tally: Tally, rng: random.Random) -> None:
    """One thing a practitioner does, on a web process chosen at random."""
    base = rng.choice(bases)
    kind = rng.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
    client = rng.choice(user.clients)
    started = time.perf_counter()
    http = user.http
    if kind == "dashboard":
        response = await http.get(f"{base}/")
        user.token = csrf(response.text) or user.token
    elif kind == "team":
        response = await http.get(f"{base}/clients/{client}")
    elif kind == "search":
        response = await http.get(
            f"{base}/clients/search", params={"q": rng.choice(user.strangers)}
        )
    elif kind == "notifications":
        response = await http.get(f"{base}/notifications")
    elif kind == "attention":
        data = {"text": "Please call me about the next visit", "csrf_token": user.token}
        response = await http.post(f"{base}/clients/{client}/attentions", data=data)
    else:
        found = await http.get(f"{base}/clients/search", params={"q": rng.choice(user.strangers)})
        tally.add("search", started, found.status_code)
        link = JOIN.search(found.text)
        if not link:
            return
        started = time.perf_counter()
        path = link.group(1).replace("&amp;", "&")
        ref = path.split("ref=", 1)[1]
        data = {"role": "Soak tester", "working_with": "yes", "ref": ref, "csrf_token": user.token}
        response = await http.post(base + path.split("?")[0], data=data)
        tally.add("join", started, response.status_code)
        started = time.perf_counter()
        other = path.split("/")[2]
        data = {"reason": "other", "csrf_token": user.token}
        response = await http.post(f"{base}/clients/{other}/leave", data=data)
        kind = "leave"
    tally.add(kind, started, response.status_code)


async def connection(user: User, bases: list[str], tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        try:
            await act(user, bases, tally, rng)
        except httpx.HTTPError as error:
            tally.errors[type(error).__name__] += 1


def resident_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def outbox(url: str) -> tuple[int, int, int]:
    """(sent, waiting, failed) outbox rows."""
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        row = await connection.fetchrow(
            "SELECT COUNT(*) FILTER (WHERE sent_at IS NOT NULL) AS sent, COUNT(*) FILTER "
            "(WHERE sent_at IS NULL AND failed_at IS NULL) AS waiting, COUNT(*) FILTER "
            "(WHERE failed_at IS NOT NULL) AS failed FROM outbox"
        )
        return int(row["sent"]), int(row["waiting"]), int(row["failed"])
    finally:
        await connection.close()


async def main(args: argparse.Namespace) -> None:
    url = args.database_url
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    wipe = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    await wipe.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await wipe.close()
    smtp = SmtpServer()
    smtp.start()
    settings = environ(url, smtp.url, SEARCH_RATE_PER_HOUR="1000000")
    env = {**os.environ, **settings}
    run("migrate", env=env)
    run("load-demo", "--clients", str(args.clients), env=env)
    logs = Path(tempfile.mkdtemp(prefix="patchwork-soak-"))
    fleet = Fleet(settings, logs)
    try:
        started = [fleet.web() for _ in range(args.web)]
        worker = fleet.worker()
        bases = [base for base, _ in started]
        await fleet.ready(*bases, timeout=60)
        found = await users_and_tokens(url, args.connections)
        users = []
        for n, (token, mine, strangers) in enumerate(found):
            http = await signed_in(bases[n % len(bases)], token)
            page = await http.get(f"{bases[0]}/")
            users.append(User(http, mine, strangers, csrf(page.text)))
        print(f"{len(users)} practitioners signed in; warming up for {args.warm_up} s", flush=True)
        warm = Tally()
        until = time.monotonic() + args.warm_up
        await asyncio.gather(*(connection(u, bases, warm, until, n) for n, u in enumerate(users)))
        processes = {f"web {n + 1}": p for n, (_, p) in enumerate(started)} | {"worker": worker}
        before = {name: resident_kb(p.pid) for name, p in processes.items()}
        tally = Tally()
        began = time.monotonic()
        until = began + args.minutes * 60
        series: list[dict[str, int]] = []

        async def sample() -> None:
            while time.monotonic() < until - 30:
                await asyncio.sleep(30)
                series.append({name: resident_kb(p.pid) for name, p in processes.items()})

        await asyncio.gather(
            sample(), *(connection(u, bases, tally, until, 1000 + n) for n, u in enumerate(users))
        )
        elapsed = time.monotonic() - began
        after = {name: resident_kb(p.pid) for name, p in processes.items()}
        print("memory every 30 s (MB):", flush=True)
        for name in processes:
            print(f"  {name}: " + " ".join(f"{s[name] / 1024:.0f}" for s in series), flush=True)
        deadline = time.monotonic() + 120
        while (counts := await outbox(url))[1] and time.monotonic() < deadline:
            await asyncio.sleep(1)
        for user in users:
            await user.http.aclose()
        fleet.check_alive()
    finally:
        fleet.stop()
        smtp.stop()
    report(args, tally, elapsed, before, after, counts, len(smtp.mailbox.messages), logs)


def report(
    args: argparse.Namespace,
    tally: Tally,
    elapsed: float,
    before: dict[str, int],
    after: dict[str, int],
    counts: tuple[int, int, int],
    emails: int,
    logs: Path,
) -> None:
    every = [ms for times in tally.times.values() for ms in times]
    total = len(every)
    print(f"\n{args.web} web processes and a worker, {len(tally.times)} kinds of request, ")
    print(f"{args.connections} connections, {elapsed:.0f} s\n")
    print(f"requests {total:,} ({total / elapsed:.0f}/s); errors {sum(tally.errors.values())}")
    print(f"statuses: {dict(sorted(tally.statuses.items()))}; errors: {dict(tally.errors)}")
    print(f"p50 {statistics.median(every):.0f} ms, p99 {percentile(every, 99):.0f} ms\n")
    print("| request | count | p50 | p99 |\n|---|---|---|---|")
    for kind, times in sorted(tally.times.items()):
        print(
            f"| {kind} | {len(times):,} | {statistics.median(times):.0f} ms "
            f"| {percentile(times, 99):.0f} ms |"
        )
    print("\n| process | memory after warm-up | at the end | change |\n|---|---|---|---|")
    for name, start in before.items():
        end = after[name]
        change = (end - start) / start * 100 if start else 0.0
        print(f"| {name} | {start / 1024:.0f} MB | {end / 1024:.0f} MB | {change:+.1f}% |")
    sent, waiting, failed = counts
    print(f"\noutbox: {sent} sent, {waiting} waiting, {failed} failed; SMTP received {emails}")
    print(f"logs: {logs}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--web", type=int, default=2)
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--warm-up", type=int, default=60, help="seconds before memory is read")
    asyncio.run(main(parser.parse_args()))
