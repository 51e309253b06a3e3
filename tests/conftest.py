"""Fixtures for every test: a fresh database (SQLite, or PostgreSQL when TEST_DATABASE_URL is
set), a real SMTP server, the app in-process, a live server in a subprocess, and Chromium."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections

from tests.support import SmtpServer, free_port
from web.app import create_app
from web.core import budgets, scopes
from web.core import db as database
from web.core.areas import load_areas
from web.core.settings import Settings, load

ROOT = Path(__file__).resolve().parent.parent
#: Reference data loaded once per run, and the search vocabulary (words are never deleted, so
#: processes may cache their ids); everything else is emptied after each test.
KEEP_TABLES = {"area", "name_word", "tortoise_migrations"}


#: Every request any test makes in-process is counted against its route's query budget.
OVERSPENT = budgets.start_counting()


@pytest.fixture(autouse=True)
def within_query_budgets() -> Iterator[None]:
    """Fail a test any of whose requests sent more SQL statements than its route declares."""
    OVERSPENT.clear()
    yield
    over, OVERSPENT[:] = list(OVERSPENT), []
    assert not over, "over the query budget:\n" + "\n".join(map(str, over))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With BUDGET_REPORT=path, write the most statements each route's requests sent."""
    if path := os.environ.get("BUDGET_REPORT"):
        most = sorted(budgets.MOST.items())
        Path(path).write_text("".join(f"{n} {name}\n" for name, n in most))


async def _reset_postgres(url: str) -> None:
    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        await _reset_postgres(url)
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    await database.migrate(url)
    await database.open_database(url)
    await load_areas("AU-VIC")
    yield url
    await database.close_database()


def _tables() -> list[str]:
    names = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    return [name for name in names if name not in KEEP_TABLES]


async def empty_database() -> None:
    scopes.forget_all()  # ids start again from 1: what a process kept by id is stale
    connection = connections.get("default")
    tables = _tables()
    if database.dialect() == "sqlite":
        await connection.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{t}";' for t in tables)
            + "DELETE FROM sqlite_sequence WHERE name NOT IN ('area', 'name_word');"
            + "PRAGMA foreign_keys=ON;"
        )
    else:
        names = ", ".join(f'"{t}"' for t in tables)
        await connection.execute_script(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[str]:
    """A migrated database holding only the area tree; emptied again afterwards."""
    yield database_url
    await empty_database()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_server: SmtpServer) -> Iterator[SmtpServer]:
    """The SMTP server with an empty mailbox (restarted if a test stopped it)."""
    smtp_server.mailbox.messages.clear()
    if smtp_server.controller is None:
        smtp_server.start()
    yield smtp_server
    if smtp_server.controller is None:
        smtp_server.start()


def _vapid_pair() -> tuple[str, str]:
    """A fresh VAPID key pair for this test run, base64url as `python -m web vapid-keys` prints."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    encode = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return encode(public), encode(raw)


VAPID_PUBLIC, VAPID_PRIVATE = _vapid_pair()


def test_environ(database_url: str, smtp_url: str, base_url: str, **extra: str) -> dict[str, str]:
    return {
        "VAPID_PUBLIC_KEY": VAPID_PUBLIC,
        "VAPID_PRIVATE_KEY": VAPID_PRIVATE,
        "VAPID_SUBJECT": "mailto:tests@patchwork.example",
        "DATABASE_URL": database_url,
        "SMTP_URL": smtp_url,
        "BASE_URL": base_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "MAIL_FROM": "Patchwork <patchwork@test.example>",
        "PUSH_ALLOWED_ENDPOINTS": "http://127.0.0.1",
        "COOKIE_PREFIX": "pwtest",
        "RUN_WORKER_IN_WEB": "false",
        **extra,
    }


@pytest.fixture
def settings(db: str, smtp: SmtpServer) -> Settings:
    return load(test_environ(db, smtp.url, "http://testserver"))


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (the session fixture already opened the database)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"accept": "text/html"}
    ) as http:
        yield http


# -- the live server and the browser --------------------------------------------------------


class LiveServer:
    def __init__(self, base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base_url = base_url
        self.process = process
        self.log = log

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
async def live_server(
    database_url: str, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    """uvicorn in a subprocess, on a free port, browsed at http://localhost:PORT
    (WebAuthn refuses IP addresses). It runs the delivery worker, as development does,
    so it lives for one browser module only: left running, its worker would claim the
    outbox rows that later in-process tests enqueue and expect to deliver themselves."""
    port = free_port()
    base_url = f"http://localhost:{port}"
    env = {
        **os.environ,
        **test_environ(database_url, smtp_server.url, base_url, RUN_WORKER_IN_WEB="true"),
    }
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "web", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(base_url, process, log)
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                if (await http.get(server.url("/healthz"))).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"live server exited:\n{log.read_text()}")
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"live server did not start:\n{log.read_text()}")
    yield server
    process.terminate()
    process.wait(timeout=10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def open_page(browser: Any, live_server: LiveServer, db: str, smtp: SmtpServer):
    """Open a page in a fresh browser context (its own cookies), at a phone's width unless told.
    Every page visited must be checked with `axe(page)`; teardown fails the test if one was not."""
    from tests.browser.axe import AxeTracker

    opened: list[tuple[Any, AxeTracker]] = []

    async def open_one(width: int = 390, height: int = 844, init_script: str = "") -> Any:
        context = await browser.new_context(viewport={"width": width, "height": height})
        if init_script:
            await context.add_init_script(init_script)
        tab = await context.new_page()
        tab.axe_tracker = AxeTracker(tab)
        opened.append((context, tab.axe_tracker))
        return tab

    yield open_one
    for context, _tracker in opened:
        await context.close()
    for _context, tracker in opened:
        tracker.assert_all_checked()


@pytest.fixture
async def page(open_page: Any) -> Any:
    """A fresh page at a phone's width (see open_page)."""
    return await open_page()


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[Any]:
    from tests.oidc_provider import Provider, ProviderServer

    server = ProviderServer(Provider())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def oidc(oidc_server: Any) -> Any:
    """The test OpenID provider, honest and with nobody signed in, for each test."""
    provider = oidc_server.provider
    provider.forge = None
    provider.refuse = None
    provider.user = {}
    provider.authorize_requests.clear()
    provider.codes.clear()
    from web.signin import sso

    sso._metadata.clear()
    return provider


@pytest.fixture(scope="session")
def push_server() -> Iterator[Any]:
    from tests.push_service import PushService

    service = PushService()
    service.start()
    yield service
    service.stop()


@pytest.fixture
def push_service(push_server: Any) -> Any:
    """The test push service, with nothing received and 201 for every push."""
    push_server.received.clear()
    push_server.answers.clear()
    return push_server
