"""Opening, migrating and checking the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as tortoise_migrate

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


async def migrate(database_url: str) -> None:
    """Bring the schema up to date with the committed migrations (idempotent)."""
    try:
        await tortoise_migrate(config=tortoise_config(database_url))
    finally:
        # Tortoise leaves the connection open, and aiosqlite's thread would keep
        # `python -m web migrate` (and `load-demo`) from ever exiting.
        await Tortoise.close_connections()


async def ping() -> None:
    """Raise when the database does not answer."""
    await connections.get("default").execute_query("SELECT 1")
