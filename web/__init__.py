"""Patchwork: the team around the client. `python -m web --help` lists the commands."""
