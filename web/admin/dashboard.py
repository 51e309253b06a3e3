"""The dashboard by council area: figures, growth charts and their tables, and CSV."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
