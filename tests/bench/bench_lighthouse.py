"""Benchmark: Lighthouse (mobile, as installed by `python -m tests` into tests/browser) on the
sign-in page and, signed in as Priya, the dashboard, Mia Thompson's team page and search
results. Prints each category's score and what the first visit transferred; asserts nothing.

    .venv/bin/python -m tests.bench.bench_lighthouse

Starts the demo as the quick start does (`python -m web demo`, a fresh SQLite file), signs in
through the link it prints (tests/bench/bench_pages.py's helpers), and runs Lighthouse's
default mobile configuration (simulated throttling) in Debian's Chromium with the session's
cookie for the signed-in pages.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_pages import ROOT, load_average, sign_in, start, wait_until_up
from tests.support import free_port

LIGHTHOUSE = ROOT / "tests" / "browser" / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = "/usr/bin/chromium"
CATEGORIES = ("performance", "accessibility", "best-practices")


def score(url: str, cookie: str, out: Path) -> dict[str, float]:
    command = [
        "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=--headless=new --no-sandbox",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, timeout=300)
    report = json.loads(out.read_text())
    if report["finalDisplayedUrl"] != url:
        sys.exit(f"{url} ended at {report['finalDisplayedUrl']}: not the page asked for")
    scores: dict[str, float] = {
        name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES
    }
    # Everything the first visit transferred (the page and what it loads), in KB.
    scores["KB"] = round(report["audits"]["total-byte-weight"]["numericValue"] / 1024, 1)
    return scores


def main() -> None:
    if not LIGHTHOUSE.exists() or not Path(CHROMIUM).exists():
        sys.exit("Lighthouse and Chromium come with `python -m tests` (npm ci, apt-get)")
    print(f"load average before: {load_average()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "RUN_WORKER_IN_WEB": "false"}
        env |= {"DATABASE_URL": f"sqlite://{Path(folder) / 'demo.sqlite3'}", "SMTP_URL": ""}
        env |= {"BASE_URL": f"http://localhost:{port}"}
        log = Path(folder) / "demo.log"
        demo = start([sys.executable, "-m", "web", "demo", "--port", str(port)], log, env)
        base = f"http://localhost:{port}"
        try:
            wait_until_up(demo, base + "/healthz", log, timeout=600)
            cookie, mia = sign_in(base, log)
            pages = {
                "sign-in page": ("/signin", ""),
                "dashboard": ("/", cookie),
                "Mia Thompson's team page": (f"/clients/{mia}", cookie),
                "search results": ("/clients/search?q=mia+thompson", cookie),
            }
            print("| page | performance | accessibility | best practices | transferred |")
            print("|---|---|---|---|---|")
            for n, (name, (path, sent)) in enumerate(pages.items()):
                scores = score(base + path, sent, Path(folder) / f"{n}.json")
                shown = " | ".join(str(scores[c]) for c in CATEGORIES)
                print(f"| {name} | {shown} | {scores['KB']} KB |")
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
