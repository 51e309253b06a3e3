"""Saving the demo in bulk: the columns of each table it fills, and COPY (PostgreSQL) or
multi-row INSERTs (SQLite) in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections
from tortoise.models import Model

from web.core import db

CLIENT_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "other_names",
    "birth_date",
    "birth_year",
    "area_id",
    "sharing_basis",
    "legal_basis",
    "created_at",
)


MEMBERSHIP_COLUMNS = (
    "id",
    "client_id",
    "practitioner_id",
    "role",
    "started_at",
    "ended_at",
    "end_reason",
    "last_contact_on",
    "discreet",
    "last_confirmed_at",
    "visible_since",
)


POSTING_COLUMNS = ("id", "word_id", "area_id", "client_id")


ATTENTION_COLUMNS = (
    "id",
    "client_id",
    "raised_by_id",
    "text",
    "category",
    "created_at",
    "resolved_at",
    "resolved_by_id",
    "named",
)


LINK_COLUMNS = ("id", "client_a_id", "client_b_id", "relationship", "created_by_id", "created_at")


#: Rows a statement carries: bounded, so a million clients never sit in one parameter list.
BATCH = 50_000


async def insert_rows(model: type[Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """Insert rows with explicit ids, values converted as Tortoise would: COPY on PostgreSQL,
    multi-row INSERTs on SQLite."""
    if not rows:
        return
    connection = connections.get("default")
    fields = [model._meta.fields_map[column] for column in columns]
    table = model._meta.db_table
    sqlite = db.dialect() == "sqlite"
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
    for start in range(0, len(rows), BATCH):
        values = [
            [f.to_db_value(v, model) for f, v in zip(fields, row, strict=True)]
            for row in rows[start : start + BATCH]
        ]
        if sqlite:
            await connection.execute_many(sql, values)
        else:
            async with connection.acquire_connection() as raw:  # asyncpg's, in the transaction
                await raw.copy_records_to_table(table, records=values, columns=list(columns))
    if not sqlite:  # explicit ids bypass the sequence: move it past them
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        highest = f'(SELECT MAX(id) FROM "{table}")'
        await connection.execute_query(f"SELECT setval({sequence}, {highest})")
