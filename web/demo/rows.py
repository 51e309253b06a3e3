"""Saving the demo in bulk: the columns of each table it fills, and one multi-row INSERT per
batch."""

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


async def insert_rows(model: type[Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """One multi-row INSERT with explicit ids, values converted as Tortoise would."""
    if not rows:
        return
    connection = connections.get("default")
    fields = [model._meta.fields_map[column] for column in columns]
    sqlite = db.dialect() == "sqlite"
    marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, len(columns) + 1))
    names = ", ".join(f'"{column}"' for column in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({marks})'
    values = [[f.to_db_value(v, model) for f, v in zip(fields, row, strict=True)] for row in rows]
    await connection.execute_many(sql, values)
    if not sqlite:  # explicit ids bypass the sequence: move it past them
        table = model._meta.db_table
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        highest = f'(SELECT MAX(id) FROM "{table}")'
        await connection.execute_query(f"SELECT setval({sequence}, {highest})")
