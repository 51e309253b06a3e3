"""What each command-line command does (parsing lives in __main__.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict

import uvicorn
from tortoise.transactions import in_transaction

from models.areas import Area
from models.organisations import SERVICE_TYPES, Organisation, OrganisationDomain
from models.practitioners import Practitioner
from web.alerts import worker as delivery
from web.core import audit_chain, db
from web.core import check as checks
from web.core import retention as retention_rules
from web.core.areas import load_areas as area_tree_loader
from web.core.areas import reference_rows
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


async def load_demo(
    settings: Settings, clients: int, seed: int, practitioners: int | None = None
) -> None:
    await db.migrate(settings.database_url)
    async with db.database(settings.database_url):
        started = time.perf_counter()
        loaded = await demo.load_demo(
            settings.deployment, clients=clients, seed=seed, practitioners=practitioners
        )
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


async def load_areas(settings: Settings) -> None:
    """Add the DEPLOYMENT's area tree (models/data) to the database: only the missing areas."""
    async with db.database(settings.database_url):
        await print_loaded_areas(settings.deployment)


async def print_loaded_areas(deployment: str) -> dict[str, Area]:
    before = await Area.all().count()
    areas = await area_tree_loader(deployment)
    kinds = Counter(row["kind"] for row in reference_rows(deployment))
    shown = ", ".join(f"{n} {kind}{'' if n == 1 else 's'}" for kind, n in kinds.items())
    added = len(areas) - before
    print(f"{deployment}: {shown}. Added {added} areas ({len(areas)} in the database).")
    if added:
        print("Restart running web processes and workers: each reads the areas once.")
    return areas


async def add_organisation(  # noqa: PLR0913 (the command's options)
    settings: Settings,
    name: str,
    area_code: str,
    domains: list[str],
    sensitive: bool,
    service_type: str,
) -> int:
    """Create an organisation (the first of a deployment, say, to own the first
    administrator's email domain): 0, or 1 with the reason on stderr."""
    async with db.database(settings.database_url):
        made, problem = await create_organisation(name, area_code, domains, sensitive, service_type)
        owned = ", ".join(d.domain for d in await made.domains.all()) if made else ""
    if made is None:
        print(problem, file=sys.stderr)
        return 1
    owned = owned or "no email domains"
    print(f"Added {made.name} (id {made.id}) in {area_code}, owning {owned}.")
    return 0


async def create_organisation(
    name: str, area_code: str, domains: list[str], sensitive: bool, service_type: str
) -> tuple[Organisation | None, str]:
    """The organisation, with its domains, or None and why not (nothing is written then)."""
    from web.admin.organisations_form import read_domains

    name = " ".join(name.split())
    area = await Area.get_or_none(code=area_code)
    if area is None or area.kind != "council":
        councils = "load-areas first" if not await Area.exists() else "see models/data"
        return None, f"{area_code!r} is not a council area's code ({councils})."
    if not name or len(name) > 200:
        return None, "Give the organisation a name of at most 200 characters."
    if service_type not in SERVICE_TYPES:
        return None, f"--service-type must be one of: {', '.join(SERVICE_TYPES)}."
    if await Organisation.exists(name=name):
        return None, f"There is already an organisation named {name!r}."
    wanted, problem = await read_domains(" ".join(domains), None, None)
    if problem:
        return None, problem
    async with in_transaction():
        made = await Organisation.create(
            name=name, service_type=service_type, area=area, sensitive=sensitive
        )
        for domain in wanted:
            await OrganisationDomain.create(domain=domain, organisation=made)
    return made, ""


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
                f"No organisation owns the domain of {email}. Add it first: python -m web "
                "add-organisation NAME --area CODE --domain DOMAIN (or load the demo).",
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
