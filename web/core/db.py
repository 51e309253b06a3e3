"""Opening, migrating and checking the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.executor import MigrationExecutor
from tortoise.migrations.recorder import MigrationRecorder

from models import tortoise_config
from web.core.tables import dialect  # noqa: F401 (callers say db.dialect())

#: Counts the databases this process opened, so what it keeps of one is never used for another.
opened = 0


async def open_database(database_url: str) -> None:
    # Global fallback: uvicorn runs the lifespan in another task than the requests,
    # and Tortoise 1.x keeps its context in a contextvar.
    global opened
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    opened += 1


async def close_database() -> None:
    # Also clears the global fallback, so a later open in the same process works.
    await Tortoise.close_connections()


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[None]:
    await open_database(database_url)
    try:
        yield
    finally:
        await close_database()


async def migrate(database_url: str) -> tuple[list[str], int]:
    """Bring the schema up to date with the committed migrations (idempotent): the names of
    those it applied, in order, and how many the database now has."""
    applied: list[str] = []

    def record(event: str, _app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    try:
        await tortoise_migrate(config=tortoise_config(database_url), progress=record)
        total = len(await MigrationRecorder(connections.get("default")).applied_migrations())
    finally:
        # Tortoise leaves the connection open, and aiosqlite's thread would keep
        # `python -m web migrate` (and `load-demo`) from ever exiting.
        await Tortoise.close_connections()
    return applied, total


async def migrations(database_url: str) -> tuple[int, list[str]]:
    """How many migrations the open database has applied, and the names of those pending."""
    executor = MigrationExecutor(connections.get("default"), tortoise_config(database_url)["apps"])
    pending = [step.migration.name for step in await executor.plan() if not step.backward]
    return len(await executor.recorder.applied_migrations()), pending


async def ping() -> None:
    """Raise when the database does not answer."""
    await connections.get("default").execute_query("SELECT 1")
