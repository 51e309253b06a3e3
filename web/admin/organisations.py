"""Managing organisations: name, service type, parent, areas served, duty contacts, email
domains, the sensitive flag and single sign-on."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
