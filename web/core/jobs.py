"""Jobs the worker runs once a day however many workers there are.

The guard is the job's last audit event (`job.<name>`), read and written in one transaction
that other workers wait for: SQLite has one writer, PostgreSQL takes the job's advisory lock.
The event's detail is what the job returns (what it did), so the dashboard can show it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from web.core import db
from web.core.clock import now


async def once(
    action: str,
    lock: int,
    due: Callable[[datetime | None], bool],
    job: Callable[[], Awaitable[dict[str, Any]]],
) -> None:
    """Run `job` if `due(when it last ran)`, and record it as `action`."""
    async with in_transaction() as connection:
        if db.dialect() == "postgres":
            await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [lock])
        last = await AuditEvent.filter(action=action).order_by("-at").first()
        if due(last.at if last else None):
            detail = await job()
            await AuditEvent.create(at=now(), action=action, detail=detail)
