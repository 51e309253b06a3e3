"""The command line: `python -m web <command>` (see README.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from web.core.settings import SettingsError, load, with_development_push


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="Patchwork")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    commands.add_parser("worker", help="deliver email and push from the outbox")
    commands.add_parser("migrate", help="create or update the database schema")
    load_demo = commands.add_parser("load-demo", help="fabricate the demo deployment")
    load_demo.add_argument("--clients", type=int, default=5000)
    load_demo.add_argument("--seed", type=int, default=1)
    demo = commands.add_parser("demo", help="migrate, load the demo if empty, print links, serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    invite_admin = commands.add_parser("invite-admin", help="invite an administrator by email")
    invite_admin.add_argument("email")
    retention = commands.add_parser(
        "retention", help="remove clients whose team has been empty past RETENTION_MONTHS"
    )
    retention.add_argument("--dry-run", action="store_true", help="only count them")
    commands.add_parser(
        "audit-verify", help="check the audit trail's hash chain (exit 1 at the first damage)"
    )
    commands.add_parser("vapid-keys", help="print a new VAPID key pair for web push")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load(served_on(dict(os.environ), getattr(args, "port", None)))
    except SettingsError as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2

    from web import commands as run

    if args.command in ("demo", "serve", "worker"):
        settings = with_development_push(settings)

    if args.command == "serve":
        run.serve(settings, args.host, args.port)
    elif args.command == "worker":
        asyncio.run(run.worker(settings, _stop_on_signals))
    elif args.command == "migrate":
        asyncio.run(run.migrate(settings))
    elif args.command == "load-demo":
        asyncio.run(run.load_demo(settings, args.clients, args.seed))
    elif args.command == "demo":
        asyncio.run(run.prepare_demo(settings))
        run.serve(settings, args.host, args.port)
    elif args.command == "invite-admin":
        return asyncio.run(run.invite_admin(settings, args.email))
    elif args.command == "retention":
        asyncio.run(run.retention(settings, args.dry_run))
    elif args.command == "audit-verify":
        return asyncio.run(run.audit_verify(settings))
    elif args.command == "vapid-keys":
        run.vapid_keys()
    return 0


def served_on(environ: dict[str, str], port: int | None) -> dict[str, str]:
    """The environment, with BASE_URL defaulting to the port the app is served on, so the
    links it prints and sends lead to it."""
    if port is None or "BASE_URL" in environ:
        return environ
    return {**environ, "BASE_URL": f"http://localhost:{port}"}


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


if __name__ == "__main__":
    sys.exit(main())
