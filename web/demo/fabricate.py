"""The demo deployment: real areas, fabricated organisations, practitioners and clients.

Deterministic for a seed. Clients, memberships, attentions and links go in with one
multi-row INSERT per table inside one transaction (100,000 clients in well under a
minute on SQLite); the few organisations and practitioners go through the ORM.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from tortoise import connections
from tortoise.transactions import in_transaction

from models.areas import Area
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import AdminArea, Practitioner, PractitionerArea
from web.core import clock, db
from web.core.areas import load_areas
from web.demo.clients import _ClientBuilder
from web.demo.data import (
    COUNCIL_SERVICES,
    COUNCILS,
    PERSONAS,
    SERVICES,
)
from web.demo.names import FAMILY_NAMES, GIVEN_NAMES


@dataclass
class Loaded:
    organisations: int
    practitioners: int
    clients: int
    memberships: int
    attentions: int
    links: int


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


async def load_demo(
    deployment: str, clients: int = 5000, seed: int = 1, practitioners: int | None = None
) -> Loaded:
    """Fabricate the demo deployment into an empty, migrated database: `practitioners` in all,
    personas included, or (None) 7 to 11 in each organisation (374 in all for seed 1)."""
    if await Practitioner.exists():
        raise SystemExit(
            "The database already holds practitioners: load the demo into an empty one."
        )
    if deployment != "AU-VIC":
        raise SystemExit("The demo deployment is Victorian: set DEPLOYMENT=AU-VIC.")
    rng = random.Random(seed)
    # 09:00 UTC of the last day it has reached: the same all day (a seed gives the same
    # data), and never ahead of the app's clock.
    today = clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
    if today > clock.now():
        today -= timedelta(days=1)
    async with in_transaction():
        areas = await load_areas(deployment)
        organisations = await _organisations(areas)
        people = await _practitioners(rng, areas, organisations, practitioners)
        builder = _ClientBuilder(rng, areas, people, today)
        builder.thompsons(people)
        builder.personas_caseload(people)
        builder.fill(clients)
        await builder.save()
    if db.dialect() == "postgres":  # fresh statistics, so the planner knows the sizes
        await connections.get("default").execute_script("ANALYZE")
    return Loaded(
        organisations=len(organisations),
        practitioners=len(people),
        clients=len(builder.clients),
        memberships=len(builder.memberships),
        attentions=len(builder.attentions),
        links=len(builder.links),
    )


async def _organisations(areas: dict[str, Area]) -> dict[str, Organisation]:
    made: dict[str, Organisation] = {}
    for code, (council, slug) in COUNCILS.items():
        for index, (suffix, service_type, _titles) in enumerate(COUNCIL_SERVICES):
            domain = f"{slug}.example" if index == 0 else f"youth.{slug}.example"
            if slug == "wyndham":  # Tom Walsh's address is @wyndham.example (PRODUCT.md)
                domain = "wyndham.example" if index == 1 else "mch.wyndham.example"
            made[f"{council} — {suffix}"] = await _organisation(
                f"{council} — {suffix}", service_type, areas[code], domain, False
            )
    for name, service_type, code, domain, sensitive, _titles in SERVICES:
        made[name] = await _organisation(name, service_type, areas[code], domain, sensitive)
    return made


async def _organisation(
    name: str, service_type: str, area: Area, domain: str, sensitive: bool
) -> Organisation:
    number = 5550_0000 + len(name) * 97 % 10000
    organisation = await Organisation.create(
        name=name,
        service_type=service_type,
        area=area,
        sensitive=sensitive,
        duty_phone=f"03 {str(number)[:4]} {str(number)[4:]}",
        duty_email=f"intake@{domain}",
    )
    await OrganisationDomain.create(domain=domain, organisation=organisation)
    return organisation


def _titles_for(organisation: Organisation) -> tuple[str, ...]:
    for _name, service_type, titles in COUNCIL_SERVICES:
        if organisation.service_type == service_type and organisation.name.endswith(_name):
            return titles
    for name, _type, _code, _domain, _sensitive, titles in SERVICES:
        if name == organisation.name:
            return titles
    return ("Practitioner",)


def _staff_counts(rng: random.Random, organisations: int, wanted: int | None) -> list[int]:
    """How many staff each organisation gets: 7 to 11 each, or `wanted` shared out evenly."""
    if wanted is None:
        return [rng.randint(7, 11) for _ in range(organisations)]
    if wanted < len(PERSONAS):
        raise SystemExit(f"--practitioners must be at least {len(PERSONAS)} (the personas).")
    share, extra = divmod(wanted - len(PERSONAS), organisations)
    return [share + (i < extra) for i in range(organisations)]


async def _practitioners(
    rng: random.Random,
    areas: dict[str, Area],
    organisations: dict[str, Organisation],
    wanted: int | None = None,
) -> list[Practitioner]:
    people: list[Practitioner] = []
    emails: set[str] = set()
    for persona in PERSONAS:
        practitioner = await Practitioner.create(
            email=persona.email,
            name=persona.name,
            job_title=persona.job_title,
            organisation=organisations[persona.organisation],
            phone=persona.phone,
            mobile=persona.mobile,
            role=persona.role,
        )
        for code in persona.admin_areas:
            await AdminArea.create(practitioner=practitioner, area=areas[code])
        for position, code in enumerate(persona.areas):
            await PractitionerArea.create(
                practitioner=practitioner, area=areas[code], position=position
            )
        emails.add(persona.email)
        people.append(practitioner)
    staff: list[Practitioner] = []
    chosen: list[tuple[int, int]] = []  # (index into staff, area id)
    employers = [o for o in organisations.values() if o.name != "Municipal Association of Victoria"]
    domains = {d.organisation_id: d.domain for d in await OrganisationDomain.all()}  # type: ignore[attr-defined]
    counts = None if wanted is None else _staff_counts(rng, len(employers), wanted)
    for index, organisation in enumerate(employers):
        domain = domains[organisation.id]
        titles = _titles_for(organisation)
        count = rng.randint(7, 11) if counts is None else counts[index]
        for _ in range(count):
            given, family = rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)
            local = f"{ascii_slug(given)}.{ascii_slug(family)}"
            email, n = f"{local}@{domain}", 1
            while email in emails:
                n += 1
                email = f"{local}{n}@{domain}"
            emails.add(email)
            staff.append(
                Practitioner(
                    email=email,
                    name=f"{given} {family}",
                    job_title=rng.choice(titles),
                    organisation=organisation,
                    phone=f"03 5550 {rng.randint(0, 9999):04d}",
                    mobile=f"0491 570 {rng.choice((110, 313, 737))}",
                    # Signed up over the last 18 months, so the network has grown for the
                    # administrators' charts to show.
                    created_at=clock.now() - timedelta(days=rng.randint(0, 540)),
                )
            )
            chosen.append((len(staff) - 1, organisation.area_id))  # type: ignore[attr-defined]
    await Practitioner.bulk_create(staff, batch_size=500)
    personas = [p.email for p in PERSONAS]
    saved = await Practitioner.exclude(email__in=personas).select_related("organisation")
    by_email = {p.email: p for p in saved}
    ordered = [by_email[p.email] for p in staff]
    await PractitionerArea.bulk_create(
        [PractitionerArea(practitioner=ordered[i], area_id=area_id) for i, area_id in chosen],
        batch_size=500,
    )
    return people + ordered
