"""Managing practitioners: search, deactivate and reactivate, administrator rights, and
confirming an organisation an inviter vouched for."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
