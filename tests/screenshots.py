"""Screenshots for review: every main page as each persona sees it, on a phone and a tablet.

    .venv/bin/python -m tests.screenshots DIR [--personas "Priya Nair,Sam Lee"]
        [--viewports 390x844,320x568]

Starts the demo as the quick start runs it (`python -m web demo --port P`) on a fresh temporary
SQLite file, signs each persona in through the link the demo prints, and writes, for each of
320 × 568 (small phone), 390 × 844 (phone), 820 × 1180 (tablet, portrait) and 1180 × 820
(tablet, landscape): DIR/<persona>/<viewport>/<page>.png, the first screen as the practitioner
sees it, and <page>-full.png, the whole page (taken with the window as tall as the page, so
the phone's fixed bottom bar sits at the end, not over the middle). Pages: sign-in, dashboard,
search, team, attentions, circle, history, lead professional, notifications, profile, phone
book and, for administrators, the admin dashboard. Each persona opens their own natural
client (see CLIENTS: Tom's Leo Thompson, whose circle shows the linked clients' teams), else
their first.
It prints one line per file and asserts nothing: the pictures are for people to look at.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.bench_pages import start, tail, wait_until_up
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.support import free_port

VIEWPORTS = {
    "320x568": (320, 568),
    "390x844": (390, 844),
    "820x1180": (820, 1180),
    "1180x820": (1180, 820),
}
PERSONAS = ("Priya Nair", "Tom Walsh", "Aroha Ngata", "Sam Lee", "Grace Okafor", "Morgan Reid")
#: The client each persona's story is about; anyone else (or a persona without them) gets
#: their first client.
CLIENTS = {
    "Priya Nair": "Mia Thompson",
    "Tom Walsh": "Leo Thompson",
    "Aroha Ngata": "Mia Thompson",
    "Sam Lee": "Mia Thompson",
}


def links(log: Path) -> dict[str, str]:
    """Each persona's one-time sign-in link, as the demo printed it."""
    found = re.findall(r"^\s+(\S.*?\S)\s+(http\S+/signin/link\?token=\S+)$", log.read_text(), re.M)
    return dict(found)


async def pages_for(page: Any, base: str, persona: str = "") -> dict[str, str]:
    """The pages to show this persona: their natural client (CLIENTS), else their first."""
    await page.goto(base + "/")
    html = await page.content()
    wanted = CLIENTS.get(persona)
    natural = wanted and re.search(rf'href="/clients/(\d+)">({re.escape(wanted)})<', html)
    first = natural or re.search(r'href="/clients/(\d+)">([^<]+)<', html)
    paths = {"dashboard": "/"}
    if first:
        name = first.group(2).lower()
        paths["search"] = "/clients/search?q=" + name.replace(" ", "+")
        team = f"/clients/{first.group(1)}"
        paths |= {"team": team, "attentions": team + "/attentions", "circle": team + "/circle"}
        paths["history"] = team + "/history"
        paths["lead"] = team + "/lead"
    else:
        paths["search"] = "/clients/search?q=thompson"
    paths |= {"notifications": "/notifications", "profile": "/profile", "phone-book": "/people"}
    if 'href="/admin"' in html:
        paths["admin-dashboard"] = "/admin"
    return paths


async def shoot(page: Any, folder: Path, name: str) -> None:
    """The first screen, then the whole page with the window made as tall as the page: a
    full_page shot of the window as it is draws position: fixed bars where the window's end
    was, over the middle of the page."""
    folder.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(folder / f"{name}.png"))
    size = page.viewport_size
    tall = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": size["width"], "height": max(tall, size["height"])})
    tall = await page.evaluate("document.documentElement.scrollHeight")  # after any reflow
    await page.set_viewport_size({"width": size["width"], "height": max(tall, size["height"])})
    await page.screenshot(path=str(folder / f"{name}-full.png"), full_page=True)
    await page.set_viewport_size(size)
    print(folder / f"{name}.png", flush=True)


Viewports = dict[str, tuple[int, int]]


async def persona_shots(
    browser: Any, base: str, name: str, link: str, out: Path, viewports: Viewports
) -> None:
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    slug = name.split()[0].lower()
    for viewport, (width, height) in viewports.items():  # as a stranger sees it
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(base + "/signin")
        await shoot(page, out / slug / viewport, "sign-in")
    await page.goto(link)
    await page.get_by_role("button", name="Sign in to Patchwork").click()
    await page.get_by_role("heading", name="Your clients").wait_for()
    paths = await pages_for(page, base, name)
    for viewport, (width, height) in viewports.items():
        await page.set_viewport_size({"width": width, "height": height})
        for page_name, path in paths.items():
            await page.goto(base + path)
            await shoot(page, out / slug / viewport, page_name)
    await context.close()


async def run(out: Path, names: list[str], viewports: Viewports, base: str, log: Path) -> None:
    from playwright.async_api import async_playwright

    printed = links(log)
    missing = [name for name in names if name not in printed]
    if missing:
        sys.exit(f"The demo printed no link for {', '.join(missing)}:\n{tail(log)}")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in names:
            await persona_shots(browser, base, name, printed[name], out, viewports)
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--personas", default=",".join(PERSONAS), help="comma-separated names")
    parser.add_argument("--viewports", default=",".join(VIEWPORTS), help="e.g. 390x844,320x568")
    args = parser.parse_args()
    viewports = {}
    for size in args.viewports.split(","):
        width, _, height = size.strip().partition("x")
        viewports[size.strip()] = (int(width), int(height))
    names = [name.strip() for name in args.personas.split(",") if name.strip()]
    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        base = f"http://localhost:{port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "ENVIRONMENT": "development"}
        env |= {"DATABASE_URL": f"sqlite://{Path(scratch) / 'demo.sqlite3'}", "SMTP_URL": ""}
        env |= {"BASE_URL": base, "RUN_WORKER_IN_WEB": "false"}
        log = Path(scratch) / "demo.log"
        demo = start([sys.executable, "-m", "web", "demo", "--port", str(port)], log, env)
        try:
            wait_until_up(demo, base + "/healthz", log, timeout=600)
            asyncio.run(run(args.folder, names, viewports, base, log))
        finally:
            demo.terminate()
            demo.wait(timeout=15)


if __name__ == "__main__":
    main()
