"""What each command-line command does (parsing lives in __main__.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict

import uvicorn
from tortoise.transactions import in_transaction

from models.practitioners import Practitioner
from web.alerts import worker as delivery
from web.core import audit_chain, db
from web.core import check as checks
from web.core import retention as retention_rules
from web.core.errors import loggable_path
from web.core.settings import Settings, new_vapid_keys
from web.demo import fabricate as demo


class RedactAccessLog(logging.Filter):
    """Access logs keep paths without secrets (`errors.loggable_path`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            args[2] = loggable_path(str(args[2]))
            record.args = tuple(args)
        return True


def serve(settings: Settings, host: str, port: int) -> None:
    from web.app import create_app

    logging.getLogger("uvicorn.access").addFilter(RedactAccessLog())
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        # X-Forwarded-For names the client (audit, per-IP limits): believe only our proxies.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=None,
    )


async def migrate(settings: Settings) -> None:
    applied, total = await db.migrate(settings.database_url)
    if not applied:
        print(f"Database is up to date ({total} migrations).")
        return
    plural = "" if len(applied) == 1 else "s"
    in_all = "" if len(applied) == total else f" ({total} in all)"
    print(f"Applied {len(applied)} migration{plural}{in_all}:")
    for name in applied:
        print(f"  {name}")


async def load_demo(settings: Settings, clients: int, seed: int) -> None:
    await db.migrate(settings.database_url)
    async with db.database(settings.database_url):
        started = time.perf_counter()
        loaded = await demo.load_demo(settings.deployment, clients=clients, seed=seed)
        took = time.perf_counter() - started
    print(
        f"Loaded the demo in {took:.1f} s: {loaded.organisations} organisations, "
        f"{loaded.practitioners} practitioners, {loaded.clients} clients, "
        f"{loaded.memberships} memberships, {loaded.attentions} attentions, "
        f"{loaded.links} circle links."
    )


async def prepare_demo(settings: Settings) -> None:
    """Migrate, load the demo into an empty database, and print a sign-in link per persona."""
    from web.core.signins import create_signin_token, signin_url

    await db.migrate(settings.database_url)
    async with db.database(settings.database_url):
        if not await Practitioner.exists():
            print("Loading the demo deployment (fabricated people, real Victorian areas)…")
            loaded = await demo.load_demo(settings.deployment)
            print(f"  {loaded.practitioners} practitioners, {loaded.clients} clients.")
        print("\nSign in as one of the personas (each link works once, for 15 minutes):")
        for persona in demo.PERSONAS:
            practitioner = await Practitioner.get(email=persona.email)
            token = await create_signin_token(practitioner)
            print(f"  {persona.name:<13} {signin_url(settings.base_url, token)}")
        print(f"\nOr open {settings.base_url}/signin and ask for a link by email")
        print("(with SMTP_URL unset, emails are printed here).\n")


async def worker(settings: Settings, on_start: Callable[[asyncio.Event], None]) -> None:
    stop = asyncio.Event()
    on_start(stop)
    async with db.database(settings.database_url):
        await delivery.run(settings, stop)


async def invite_admin(settings: Settings, email: str) -> int:
    """Invite a state administrator (the first one of a deployment, say): the invitation is
    emailed, and its link printed here."""
    from web.core.invitations import send_invitation
    from web.core.signins import normalise_email, valid_email
    from web.core.vouching import organisations_for

    email = normalise_email(email)
    if not valid_email(email):
        print(f"{email!r} is not an email address.", file=sys.stderr)
        return 2
    async with db.database(settings.database_url):
        if await Practitioner.exists(email=email):
            print(f"{email} already has an account.", file=sys.stderr)
            return 1
        if not await organisations_for(email):
            print(
                f"No organisation owns the domain of {email}. Load the demo or add the "
                "organisation and its email domain first.",
                file=sys.stderr,
            )
            return 1
        async with in_transaction():
            _invitation, link = await send_invitation(settings, email, None, role="state_admin")
    print(f"Invited {email} as an administrator. The link works for 14 days:\n  {link}")
    return 0


async def retention(settings: Settings, dry_run: bool) -> None:
    """Remove the clients past retention now (the worker does it daily), or only count them."""
    async with db.database(settings.database_url):
        await print_retention(settings, dry_run)


async def print_retention(settings: Settings, dry_run: bool) -> None:
    removed = await retention_rules.apply(settings, dry_run=dry_run)
    cutoff = retention_rules.cutoff(settings).date().isoformat()
    print(f"Clients whose team has been empty since before {cutoff}:")
    for name, count in asdict(removed).items():
        print(f"  {name.replace('_', ' ')}: {count}")
    print("Dry run: nothing was deleted." if dry_run else "Removed.")


async def audit_verify(settings: Settings) -> int:
    """Check the audit trail's hash chain: 0 when intact, 1 at the first damage."""
    async with db.database(settings.database_url):
        return await print_verdict()


async def print_verdict() -> int:
    verdict = await audit_chain.verify()
    if not verdict.intact:
        print(f"Damaged: {verdict.problem} ({verdict.checked} events before it are intact).")
        return 1
    waiting = (
        f"; {verdict.waiting} newer events are waiting to be sealed" if verdict.waiting else ""
    )
    print(f"intact: {verdict.checked} events{waiting}.")
    print(f"The last is event {verdict.checked}, hash {verdict.head}: note it to check the end.")
    return 0


async def check(settings: Settings, environ: dict[str, str]) -> int:
    """Print the configuration and whether its database, SMTP server and VAPID keys answer."""
    return await checks.run(settings, environ)


def vapid_keys() -> None:
    """Print a fresh VAPID key pair in the form the settings expect."""
    public, private = new_vapid_keys()
    print(f"VAPID_PUBLIC_KEY={public}")
    print(f"VAPID_PRIVATE_KEY={private}")
