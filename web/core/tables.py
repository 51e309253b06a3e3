"""Rows read as models, for the hot paths that write their SQL once, and which database this
is. No project imports: every layer may use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from tortoise import connections
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
    projection = model._meta.fields_db_projection.values()
    return model._init_from_db(**{column: row[f"{alias}__{column}"] for column in projection})
