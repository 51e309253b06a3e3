"""Rows read as models, for the hot paths that write their SQL once, and which database this
is. No project imports: every layer may use it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.fields import DateField, DatetimeField
from tortoise.models import Model

ModelT = TypeVar("ModelT", bound=Model)


def dialect() -> str:
    """ "sqlite" or "postgres" for the default connection."""
    return str(connections.get("default").capabilities.dialect)


def columns(*tables: tuple[type[Model], str]) -> str:
    """Every column of each (model, alias) table, named `alias__column`."""
    return ", ".join(
        f'{alias}."{column}" AS "{alias}__{column}"'
        for model, alias in tables
        for column in model._meta.fields_db_projection.values()
    )


def as_model(model: type[ModelT], row: Mapping[str, Any], alias: str) -> ModelT:
    """The `model` instance in `row`'s `alias__column` values, as Tortoise would build it."""
    values = {column: row[f"{alias}__{column}"] for column in _projection(model)}
    for column, read in _dated(model):
        if isinstance(value := values[column], str):
            # SQLite keeps ISO text: the standard library reads it several times faster than
            # the parser Tortoise would call (the same instant, the same time zone).
            values[column] = read(value)
    return model._init_from_db(**values)


@cache
def _projection(model: type[Model]) -> tuple[str, ...]:
    return tuple(model._meta.fields_db_projection.values())


@cache
def _dated(model: type[Model]) -> tuple[tuple[str, Callable[[str], date]], ...]:
    """The date and time columns, each with how to read its ISO text."""
    meta = model._meta
    return tuple(
        (meta.fields_db_projection[name], datetime.fromisoformat if timed else date.fromisoformat)
        for name, field in meta.fields_map.items()
        if name in meta.fields_db_projection
        and ((timed := isinstance(field, DatetimeField)) or isinstance(field, DateField))
    )


def moment(value: object) -> datetime | None:
    """A moment a raw statement read: a datetime from PostgreSQL, ISO text from SQLite (a date
    alone, from a contact, is its midnight in UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    read = datetime.fromisoformat(str(value))
    return read if read.tzinfo else read.replace(tzinfo=UTC)
