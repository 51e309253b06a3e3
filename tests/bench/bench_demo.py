"""Benchmark: load the demo deployment at size and print how long it takes.

    .venv/bin/python -m tests.bench.bench_demo [--clients 100000] [--database-url URL]

Not a test (nothing here is collected by pytest): figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from web.core import db
from web.demo.fabricate import load_demo


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite://{Path(folder) / 'bench.sqlite3'}"
        await db.migrate(url)
        async with db.database(url):
            started = time.perf_counter()
            loaded = await load_demo("AU-VIC", clients=args.clients, seed=1)
            took = time.perf_counter() - started
    print(f"database        {url.split(':')[0]}")
    print(f"clients         {loaded.clients:,}")
    print(f"memberships     {loaded.memberships:,}")
    print(f"circle links    {loaded.links:,}")
    print(f"load time       {took:.1f} s ({loaded.clients / took:,.0f} clients/s)")


if __name__ == "__main__":
    asyncio.run(main())
