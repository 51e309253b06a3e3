"""Patchwork: the team around the client. `python -m web --help` lists the commands."""

# Registers the bounded `int` path convertor before any module builds its routes.
from web.core import inputs as _inputs  # noqa: F401
