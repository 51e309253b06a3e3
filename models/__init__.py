"""Tortoise models for Patchwork, and the Tortoise configuration that loads them.

One module per aggregate; the rules about the data (who may see what) live next
to it in plain functions the routes call.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MODEL_MODULES = [
    "models.areas",
    "models.organisations",
    "models.practitioners",
    "models.clients",
    "models.teams",
    "models.attentions",
    "models.circles",
    "models.invitations",
    "models.auth",
    "models.notifications",
    "models.audit",
    "models.search",
]


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise configuration for one database URL (SQLite or PostgreSQL)."""
    return {
        "connections": {"default": database_url},
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
