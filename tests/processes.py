"""Real processes for the multi-process tests (tests/web/test_multiprocess.py): web servers and
delivery workers as `python -m web` subprocesses, a TCP proxy in front of PostgreSQL that can
drop every connection and refuse new ones (a database restart, without restarting the
machine's server), and an SMTP sink that counts messages and can hold one before accepting it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Mailbox, SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent


async def wait_until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, every: float = 0.05
) -> None:
    """Poll `check` until it is true; fail after `timeout` seconds (a bound for liveness)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(every)


class CountingMailbox(Mailbox):
    """Keeps every message, and with `hold_at = n` holds the n-th DATA unanswered until
    `release` is set, then refuses it (451): the sender was killed meanwhile, so nothing was
    accepted and nothing is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = 0
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self._count = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._count:
            self.seen += 1
            number = self.seen
        if number == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Not accepted"
        return await super().handle_DATA(server, session, envelope)


def message_ids(mailbox: Mailbox) -> Counter[str]:
    """How many times each Message-ID arrived."""
    return Counter(str(m["Message-ID"]) for m in mailbox.messages)


def counting_smtp() -> SmtpServer:
    """An SMTP server (not yet started: `start()` it) whose mailbox is a CountingMailbox."""
    server = SmtpServer()
    server.mailbox = CountingMailbox()
    return server


class DatabaseProxy:
    """Forwards 127.0.0.1:`port` to PostgreSQL. `outage()` drops every connection and stops
    listening (connections are refused), `restore()` listens again on the same port."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            self.writers.discard(writer)

    async def outage(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        if self.server is not None:
            await self.outage()


class Fleet:
    """Web processes and workers sharing one environment; everything started is stopped by
    `stop()` (terminated, or killed if it will not go)."""

    def __init__(self, environ: dict[str, str], logs: Path) -> None:
        self.environ = environ
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def _start(
        self, name: str, command: list[str], extra: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        log = self.logs / f"{name}-{len(self.processes)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "web", *command],
                cwd=ROOT,
                env={**os.environ, **self.environ, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process.log = log  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def web(self, **extra: str) -> tuple[str, subprocess.Popen[bytes]]:
        """A web process (no worker inside it) on a free port; its base URL."""
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        environ = {"BASE_URL": base_url, "RUN_WORKER_IN_WEB": "false", **extra}
        return base_url, self._start("web", command, environ)

    def worker(self, **extra: str) -> subprocess.Popen[bytes]:
        return self._start("worker", ["worker"], extra)

    async def ready(self, *base_urls: str, timeout: float = 30.0) -> None:
        """Wait until every web process answers /healthz with 200."""
        async with httpx.AsyncClient(timeout=5) as http:
            for base_url in base_urls:

                async def healthy(url: str = base_url) -> bool:
                    self.check_alive()
                    try:
                        return (await http.get(url + "/healthz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_until(healthy, timeout, f"{base_url} to start", every=0.1)

    def check_alive(self) -> None:
        for process in self.processes:
            if process.poll() is not None and process.returncode != -9:
                log = process.log.read_text()  # type: ignore[attr-defined]
                raise AssertionError(f"{process.args} exited {process.returncode}:\n{log}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


#: The multi-process tests need PostgreSQL: SQLite is one writer by nature, and one file.
needs_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="several processes writing one database at once: PostgreSQL only (SQLite is one "
    "writer by nature); runs in the PostgreSQL pass (TEST_DATABASE_URL)",
)


def environ(database_url: str, smtp_url: str, **extra: str) -> dict[str, str]:
    """The suite's test settings for subprocesses, pointing at `database_url`."""
    from tests.conftest import test_environ

    return test_environ(database_url, smtp_url, "http://127.0.0.1", **extra)


@pytest.fixture
def fleet(db: str, tmp_path: Path) -> Iterator[Fleet]:
    """Start processes with `fleet.web()`/`fleet.worker()`; all are stopped afterwards (before
    the database is emptied, so no process outlives its test)."""
    started = Fleet({}, tmp_path)
    yield started
    started.stop()
