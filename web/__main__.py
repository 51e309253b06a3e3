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
    args = parser().parse_args(argv)
    from web import commands as run

    if args.command == "vapid-keys":
        # It only prints, so it needs no configured deployment: production asks for its keys.
        run.vapid_keys()
        return 0

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Tortoise logs "Tortoise-ORM shutdown" at INFO each time a command closes the database.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    try:
        settings = load(served_on(dict(os.environ), getattr(args, "port", None)))
    except SettingsError as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return 2

    if args.command in ("demo", "serve", "worker"):
        settings = with_development_push(settings)

    if args.command == "serve":
        run.serve(settings, args.host, args.port)
    elif args.command == "worker":
        asyncio.run(run.worker(settings, _stop_on_signals))
    elif args.command == "migrate":
        asyncio.run(run.migrate(settings))
    elif args.command == "load-demo":
        asyncio.run(run.load_demo(settings, args.clients, args.seed, args.practitioners))
    elif args.command == "demo":
        asyncio.run(run.prepare_demo(settings))
        run.serve(settings, args.host, args.port)
    elif args.command == "load-areas":
        asyncio.run(run.load_areas(settings))
    elif args.command == "add-organisation":
        return asyncio.run(
            run.add_organisation(
                settings, args.name, args.area, args.domain, args.sensitive, args.service_type
            )
        )
    elif args.command == "invite-admin":
        return asyncio.run(run.invite_admin(settings, args.email))
    elif args.command == "retention":
        asyncio.run(run.retention(settings, args.dry_run))
    elif args.command == "audit-verify":
        return asyncio.run(run.audit_verify(settings))
    elif args.command == "check":
        return asyncio.run(run.check(settings, dict(os.environ)))
    return 0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m web", description="Patchwork")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web app")
    add_address(serve)
    commands.add_parser("worker", help="deliver email and push from the outbox")
    commands.add_parser("migrate", help="create or update the database schema")
    load_demo = commands.add_parser("load-demo", help="fabricate the demo deployment")
    load_demo.add_argument("--clients", type=int, default=5000)
    load_demo.add_argument("--seed", type=int, default=1)
    load_demo.add_argument(
        "--practitioners",
        type=int,
        default=None,
        help="in all, personas included (default: 7 to 11 a service, 374 for seed 1)",
    )
    demo = commands.add_parser("demo", help="migrate, load the demo if empty, print links, serve")
    add_address(demo)
    commands.add_parser("load-areas", help="add the DEPLOYMENT's area tree (only missing areas)")
    organisation = commands.add_parser("add-organisation", help="add an organisation")
    organisation.add_argument("name")
    organisation.add_argument("--area", required=True, help="its council's code (models/data)")
    organisation.add_argument(
        "--domain", action="append", default=[], help="an email domain it owns (repeatable)"
    )
    organisation.add_argument("--service-type", default="Other", help="default: %(default)s")
    organisation.add_argument(
        "--sensitive", action="store_true", help="its people join teams discreetly"
    )
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
    check = commands.add_parser(
        "check",
        help="print the configuration (secrets masked) and whether the database, "
        "SMTP server and VAPID keys answer (exit 1 if one does not)",
    )
    add_port(check, "the port serve would listen on, for BASE_URL's default")
    return parser


def add_address(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    add_port(command, "the port to listen on")


def add_port(command: argparse.ArgumentParser, meaning: str) -> None:
    # A string default goes through type=int too, so a bad PORT is a usage error, not a crash.
    command.add_argument(
        "--port",
        type=int,
        default=os.environ.get("PORT") or "8000",
        help=f"{meaning} (default: $PORT, else 8000; here %(default)s)",
    )


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
