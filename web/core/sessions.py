"""Reading a session on every request: one statement, written once (the ORM would build it
afresh on every request, which cost more than the database answering it)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from tortoise import connections

from models.auth import Session
from models.organisations import Organisation
from models.practitioners import Practitioner
from web.core import tables

#: The session, its practitioner and their organisation, and beside them what every page's
#: layout shows: the unread badge, and whether they have a passkey yet (the dashboard offers
#: one), and the organisations' version (web/core/services.py). One statement, written once
#: (the ORM would build it afresh on every request).
SESSION_SQL = (
    "SELECT {columns}, "
    "(SELECT COUNT(*) FROM notification n WHERE n.practitioner_id = s.practitioner_id "
    "AND n.read_at IS NULL) AS unread, "
    "(SELECT COUNT(*) FROM passkey_credential k WHERE k.practitioner_id = s.practitioner_id) "
    "AS passkeys, "
    "(SELECT d.version FROM directory_version d WHERE d.id = 1) AS directory_version "
    "FROM session s JOIN practitioner p ON p.id = s.practitioner_id "
    "JOIN organisation o ON o.id = p.organisation_id WHERE s.token_hash = {mark}"
)


@functools.cache
def session_sql(sqlite: bool) -> str:
    return SESSION_SQL.format(
        columns=tables.columns((Session, "s"), (Practitioner, "p"), (Organisation, "o")),
        mark="?" if sqlite else "$1",
    )


@dataclass(frozen=True)
class Found:
    session: Session
    unread: int
    has_passkey: bool
    directory_version: int


async def read_session(hashed: str) -> Found | None:
    """The session with this token hash (practitioner and organisation loaded), the unread
    count, whether the practitioner has a passkey, and the organisations' version; or None."""
    rows = await connections.get("default").execute_query_dict(
        session_sql(tables.dialect() == "sqlite"), [hashed]
    )
    if not rows:
        return None
    row = rows[0]
    session = tables.as_model(Session, row, "s")
    practitioner = tables.as_model(Practitioner, row, "p")
    practitioner.organisation = tables.as_model(Organisation, row, "o")
    session.practitioner = practitioner
    return Found(session, int(row["unread"]), bool(row["passkeys"]), int(row["directory_version"]))
