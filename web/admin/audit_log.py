"""The audit log: filtered, keyset-paginated, exported as CSV, and who viewed or searched
for a client."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
