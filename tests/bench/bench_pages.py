"""Benchmark: page throughput of the real server, beside a bare Starlette route. Prints
figures (a Markdown table for docs/PERFORMANCE.md); asserts nothing.

    .venv/bin/python -m tests.bench.bench_pages [--duration 10] [--repeats 3]
        [--connections 32] [--threads 1]
        [--database-url postgres://postgres@127.0.0.1:5432/NAME]

Starts two uvicorn processes (one worker each) on free ports on 127.0.0.1: the demo as the
quick start runs it (`python -m web demo --port P`, RUN_WORKER_IN_WEB=false), on a fresh
temporary SQLite file or on `--database-url` (an empty PostgreSQL database, or one holding the
demo), and the floor, a bare Starlette route returning a short PlainTextResponse (`bare_app`).
Both write their access logs (to files), as deployed. It signs in as Priya Nair through the
real link flow (the link the demo prints, the CSRF token from /signin, POST /signin/link),
checks every page answers her 200, then runs wrk against each page right after a run against
the bare route (bare, page, bare, page, ...), for `--repeats` rounds.

Share of bare: median over repeats of page req/s ÷ the bare run just before it (robust to
drifting load). SQL: statements per request (tests.support.count_queries), each page asked
in-process (httpx ASGITransport, same database) after a warm-up, once the servers stop.

Each client search counts against the practitioner's SEARCH_RATE_PER_HOUR (60), which would
refuse nearly every wrk request (429): the demo runs with that documented knob at 1,000,000,
so the check still runs and records each hit but refuses none. Non-2xx are counted anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[2]
PRIYA = "priya.nair@brimbank.example"
SEARCH_RATE = "1000000"
BARE_APP = "tests.bench.bench_pages:bare_app"


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, world")


#: The floor: what one uvicorn worker serves with no middleware, database or template.
bare_app = Starlette(routes=[Route("/", hello)])


@dataclass
class Run:
    rps: float
    non_2xx: int
    errors: int
    p50_ms: float
    p99_ms: float


Runs = dict[str, list[Run]]
Sql = dict[str, int]


def ensure_wrk() -> str:
    """wrk; when missing, apt-get installs it as root (as tests/__main__.py does chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("The page benchmark needs wrk: sudo apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        print("+", " ".join(command), flush=True)
        if subprocess.call(command, env=env):
            sys.exit("Could not install wrk with apt-get")
    return shutil.which("wrk") or sys.exit("apt-get installed wrk, but it is not on PATH")


def start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url} did not start (exit {process.returncode}):\n{tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    sys.exit(f"{url} did not answer within {timeout:.0f} s:\n{tail(log)}")


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def sign_in(base: str, log: Path) -> tuple[str, int]:
    """Priya's session through the printed link; the Cookie header and Mia Thompson's id."""
    found = re.search(r"Priya Nair\s+\S+/signin/link\?token=(\S+)", log.read_text())
    if not found:
        sys.exit(f"The demo printed no sign-in link for Priya:\n{tail(log)}")
    with httpx.Client(base_url=base, headers={"accept": "text/html"}) as http:
        html = http.get("/signin").text
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        if not csrf:
            sys.exit("No CSRF token on /signin")
        data = {"token": found.group(1), "csrf_token": csrf.group(1)}
        signed = http.post("/signin/link", data=data)
        if signed.status_code != 303:
            sys.exit(f"Signing in answered {signed.status_code}:\n{signed.text[:500]}")
        cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)
        mia = re.search(r'href="/clients/(\d+)">Mia Thompson<', http.get("/").text)
        if not mia:
            sys.exit("Mia Thompson is not on Priya's dashboard")
    return cookie, int(mia.group(1))


def check_pages(base: str, paths: dict[str, str], cookie: str) -> None:
    """Every page must answer Priya 200 itself: no redirect to /signin, no error page."""
    headers = {"cookie": cookie, "accept": "text/html"}
    for name, path in paths.items():
        response = httpx.get(base + path, headers=headers)
        if response.status_code != 200 or 'action="/signout"' not in response.text:
            sys.exit(f"{name} ({path}) answered {response.status_code}, not Priya's page")


def wrk(binary: str, url: str, args: argparse.Namespace, cookie: str, seconds: int) -> Run:
    command = [binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s"]
    command += ["--latency", "-H", "Accept: text/html", "-H", "Accept-Encoding: gzip"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        sys.exit(f"Could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors: \D*(\d+)\D*(\d+)\D*(\d+)\D*(\d+)", output)
    return Run(
        rps=float(rps.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(map(int, errors.groups())) if errors else 0,
        p50_ms=latency(output, "50%"),
        p99_ms=latency(output, "99%"),
    )


def latency(output: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return float(found.group(1)) * scale[found.group(2)] if found else float("nan")


async def sql_per_request(url: str, paths: dict[str, str]) -> tuple[dict[str, int], str]:
    """Each page once in-process against the same database, its SQL statements counted."""
    from tortoise import connections

    from models.practitioners import Practitioner
    from tests.support import count_queries
    from tests.web.helpers import sign_in as sign_in_in_process
    from web.app import create_app
    from web.core import db
    from web.core.settings import load

    settings = load({"DATABASE_URL": url, "SEARCH_RATE_PER_HOUR": SEARCH_RATE})
    counts: dict[str, int] = {}
    async with db.database(url):
        version = "SQLite " + sqlite3.sqlite_version
        if db.dialect() == "postgres":
            rows = await connections.get("default").execute_query_dict("SHOW server_version")
            version = "PostgreSQL " + str(rows[0]["server_version"])
        transport = httpx.ASGITransport(app=create_app(settings), raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
        ) as http:
            await sign_in_in_process(http, await Practitioner.get(email=PRIYA))
            for name, path in paths.items():
                await http.get(path)  # warm-up: caches as a running server has them
                with count_queries() as counter:
                    response = await http.get(path)
                ok = response.status_code == 200
                counts[name] = len(counter.queries) if ok else -response.status_code
    return counts, version


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1 or 2)")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    binary = ensure_wrk()
    from tests.support import free_port

    print(f"load average before: {load_average()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        demo_port, bare_port = free_port(), free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "DATABASE_URL": url}
        env |= {"RUN_WORKER_IN_WEB": "false", "ENVIRONMENT": "development", "SMTP_URL": ""}
        env |= {"SEARCH_RATE_PER_HOUR": SEARCH_RATE, "BASE_URL": f"http://localhost:{demo_port}"}
        demo_log, bare_log = Path(folder) / "demo.log", Path(folder) / "bare.log"
        demo = start([sys.executable, "-m", "web", "demo", "--port", str(demo_port)], demo_log, env)
        uvicorn = [sys.executable, "-m", "uvicorn", BARE_APP, "--workers=1"]
        bare = start([*uvicorn, "--host=127.0.0.1", f"--port={bare_port}"], bare_log, env)
        base, bare_url = f"http://127.0.0.1:{demo_port}", f"http://127.0.0.1:{bare_port}/"
        try:
            wait_until_up(bare, bare_url, bare_log, timeout=30)
            wait_until_up(demo, base + "/healthz", demo_log, timeout=600)
            cookie, mia = sign_in(base, demo_log)
            paths = {
                "dashboard `/`": "/",
                "team page `/clients/<Mia>`": f"/clients/{mia}",
                "client search `?q=mia+thompson`": "/clients/search?q=mia+thompson",
                "notifications `/notifications`": "/notifications",
            }
            check_pages(base, paths, cookie)
            for target in [bare_url, *(base + path for path in paths.values())]:
                wrk(binary, target, args, cookie, 1)  # warm-up, not reported
            bare_runs: Runs = {name: [] for name in paths}
            page_runs: Runs = {name: [] for name in paths}
            for repeat in range(args.repeats):
                for name, path in paths.items():
                    print(f"repeat {repeat + 1}/{args.repeats}: bare, then {name}", flush=True)
                    bare_runs[name].append(wrk(binary, bare_url, args, "", args.duration))
                    page_runs[name].append(wrk(binary, base + path, args, cookie, args.duration))
        finally:
            for process in (demo, bare):
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        after = load_average()
        counts, version = asyncio.run(sql_per_request(url, paths))
    report(args, version, after, bare_runs, page_runs, counts)


def report(
    args: argparse.Namespace, version: str, after: str, bare_runs: Runs, page_runs: Runs, sql: Sql
) -> None:
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout
    print(f"load average after:  {after}")
    print(f"Python {sys.version.split()[0]}, {version}, {wrk_version.split('[')[0].strip()}")
    print(
        f"wrk -t{args.threads} -c{args.connections}, {args.duration} s per run, "
        f"{args.repeats} repeats, one uvicorn worker each, SEARCH_RATE_PER_HOUR={SEARCH_RATE}\n"
    )
    print("| page | req/s (median) | each repeat | share of bare | p50 / p99 ms | non-2xx | SQL |")
    print("|---|---:|---|---:|---:|---:|---:|")
    every_bare = [run for runs in bare_runs.values() for run in runs]
    per_repeat = [[runs[i].rps for runs in bare_runs.values()] for i in range(args.repeats)]
    rows = [("bare Starlette route", every_bare, [*map(statistics.median, per_repeat)], 1.0, "-")]
    for name, runs in page_runs.items():
        ratios = [p.rps / b.rps for p, b in zip(runs, bare_runs[name], strict=True)]
        count = str(sql[name]) if sql[name] >= 0 else f"HTTP {-sql[name]}"
        rows.append((name, runs, [r.rps for r in runs], statistics.median(ratios), count))
    warnings = []
    for name, runs, each, share, count in rows:
        bad, errors = sum(r.non_2xx for r in runs), sum(r.errors for r in runs)
        if bad or errors:
            warnings.append(f"WARNING: {name}: {bad} non-2xx/3xx, {errors} socket errors")
        print(
            f"| {name} | {statistics.median(r.rps for r in runs):,.0f} "
            f"| {', '.join(f'{rps:,.0f}' for rps in each)} | {share:.1%} "
            f"| {statistics.median(r.p50_ms for r in runs):.1f} / "
            f"{statistics.median(r.p99_ms for r in runs):.1f} "
            f"| {bad}{f' ({errors} socket errors)' if errors else ''} | {count} |"
        )
    print(f"\nbare: each repeat is the median of its {len(page_runs)} runs (one before each page)")
    print("\n".join(warnings))


if __name__ == "__main__":
    main()
