"""Tortoise models for Patchwork, and the Tortoise configuration that loads them.

One module per aggregate; the rules about the data (who may see what) live next
to it in plain functions the routes call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "models.areas",
    "models.organisations",
    "models.practitioners",
    "models.clients",
    "models.teams",
    "models.family",
    "models.attentions",
    "models.circles",
    "models.invitations",
    "models.auth",
    "models.notifications",
    "models.audit",
    "models.search",
]


#: PostgreSQL: seconds to open a connection, and for any one statement, unless the URL says
#: otherwise (`?timeout=`, `?command_timeout=`). Bounded, so that while the database is
#: unreachable a request fails fast (a 503 page) instead of hanging.
CONNECT_TIMEOUT = 5
COMMAND_TIMEOUT = 60


def connection_config(database_url: str) -> str | dict[str, Any]:
    """SQLite URLs as they are; PostgreSQL ones expanded, with bounded timeouts."""
    if not database_url.startswith(("postgres://", "asyncpg://")):
        return database_url
    expanded = expand_db_url(database_url)
    credentials = expanded["credentials"]
    credentials["timeout"] = float(credentials.get("timeout", CONNECT_TIMEOUT))
    credentials["command_timeout"] = float(credentials.get("command_timeout", COMMAND_TIMEOUT))
    return expanded


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database URL (SQLite or PostgreSQL)."""
    return {
        "connections": {"default": connection_config(database_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def default_database_url() -> str:
    """A SQLite file in the working directory: the embedded default."""
    return f"sqlite://{Path.cwd() / 'patchwork.sqlite3'}"


def _default_url() -> str:
    return os.environ.get("DATABASE_URL") or default_database_url()


#: Read by `tortoise makemigrations` (see [tool.tortoise] in pyproject.toml).
TORTOISE_ORM = tortoise_config(_default_url())
