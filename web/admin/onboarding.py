"""Bulk onboarding: a CSV of staff, previewed row by row, then invitations sent."""

from __future__ import annotations

from starlette.routing import BaseRoute

routes: list[BaseRoute] = []
