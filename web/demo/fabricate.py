"""The demo deployment: real areas, fabricated organisations, practitioners and clients.

Deterministic for a seed. Clients, memberships, attentions and links go in with one
multi-row INSERT per table inside one transaction (100,000 clients in well under a
minute on SQLite); the few organisations and practitioners go through the ORM.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.areas import Area
from models.attentions import Attention
from models.circles import CircleLink, ordered_pair
from models.clients import Client
from models.organisations import Organisation, OrganisationDomain
from models.practitioners import Practitioner, PractitionerArea
from models.search import ClientNameWord
from models.teams import Membership
from web.core import clock, db
from web.core.areas import load_areas
from web.core.search import name_words, word_ids
from web.demo.data import (
    ATTENTION_TEXTS,
    BRIMBANK,
    COUNCIL_SERVICES,
    COUNCILS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    PERSONAS,
    SERVICES,
    VICTORIAN_BASES,
)


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


async def load_demo(deployment: str, clients: int = 5000, seed: int = 1) -> Loaded:
    """Fabricate the demo deployment into an empty, migrated database."""
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
        practitioners = await _practitioners(rng, areas, organisations)
        builder = _ClientBuilder(rng, areas, practitioners, today)
        builder.thompsons(practitioners)
        builder.personas_caseload(practitioners)
        builder.fill(clients)
        await builder.save()
    return Loaded(
        organisations=len(organisations),
        practitioners=len(practitioners),
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


async def _practitioners(
    rng: random.Random, areas: dict[str, Area], organisations: dict[str, Organisation]
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
            admin_area=areas[persona.admin_area] if persona.admin_area else None,
        )
        for position, code in enumerate(persona.areas):
            await PractitionerArea.create(
                practitioner=practitioner, area=areas[code], position=position
            )
        emails.add(persona.email)
        people.append(practitioner)
    staff: list[Practitioner] = []
    chosen: list[tuple[int, int]] = []  # (index into staff, area id)
    for organisation in organisations.values():
        if organisation.name == "Municipal Association of Victoria":
            continue
        domain = (await organisation.domains.all())[0].domain
        titles = _titles_for(organisation)
        for _ in range(rng.randint(7, 11)):
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
                )
            )
            chosen.append((len(staff) - 1, organisation.area_id))  # type: ignore[attr-defined]
    await Practitioner.bulk_create(staff, batch_size=500)
    saved = await Practitioner.filter(email__in=[p.email for p in staff]).select_related(
        "organisation"
    )
    by_email = {p.email: p for p in saved}
    ordered = [by_email[p.email] for p in staff]
    await PractitionerArea.bulk_create(
        [PractitionerArea(practitioner=ordered[i], area_id=area_id) for i, area_id in chosen],
        batch_size=500,
    )
    return people + ordered


class _ClientBuilder:
    """Builds rows in memory with explicit ids, then writes each table in one go."""

    def __init__(
        self,
        rng: random.Random,
        areas: dict[str, Area],
        practitioners: list[Practitioner],
        today: datetime,
    ) -> None:
        self.rng = rng
        self.today = today
        self.areas = areas
        self.clients: list[list[Any]] = []
        self.memberships: list[list[Any]] = []
        self.attentions: list[list[Any]] = []
        self.links: list[list[Any]] = []
        self.current: set[tuple[int, int]] = set()
        self.next_client = 1
        self.next_membership = 1
        councils = [a for a in areas.values() if a.kind == "council"]
        self.demo_councils = [areas[code] for code in COUNCILS]
        self.other_councils = [a for a in councils if a.code not in COUNCILS]
        self.district_of = {a.id: a.parent_id for a in councils}  # type: ignore[attr-defined]
        # Practitioners by district, so teams are made of people working nearby.
        self.nearby: dict[int, list[Practitioner]] = defaultdict(list)
        self.statewide: list[Practitioner] = []
        for p in practitioners:
            if p.role != "practitioner":
                continue
            district = self.district_of.get(p.organisation.area_id)  # type: ignore[attr-defined]
            self.nearby[district].append(p)  # type: ignore[index]
            if p.organisation.service_type in ("Child Protection", "Police"):
                self.statewide.append(p)

    # -- rows -------------------------------------------------------------------------------

    def add_client(
        self,
        given: str,
        family: str,
        area: Area,
        birth_date: date | None,
        birth_year: int | None,
        other_names: str = "",
    ) -> int:
        client_id = self.next_client
        self.next_client += 1
        legal = self.rng.random() < 0.15
        self.clients.append(
            [
                client_id,
                given,
                family,
                other_names,
                birth_date,
                birth_year,
                area.id,
                "legal" if legal else "consent",
                self.rng.choice(VICTORIAN_BASES) if legal else "",
                self.today - timedelta(days=self.rng.randint(30, 900)),
            ]
        )
        return client_id

    def join(
        self, client_id: int, practitioner: Practitioner, *, days_ago: int, ended: bool = False
    ) -> None:
        key = (client_id, practitioner.id)
        if not ended and key in self.current:
            return
        started = self.today - timedelta(days=days_ago)
        ended_at = (
            started + timedelta(days=self.rng.randint(20, max(21, days_ago - 1))) if ended else None
        )
        if not ended:
            self.current.add(key)
        self.memberships.append(
            [
                self.next_membership,
                client_id,
                practitioner.id,
                practitioner.job_title,
                started,
                ended_at,
                self.rng.choice(("case_closed", "transferred", "other")) if ended else "",
                (self.today - timedelta(days=self.rng.randint(0, min(days_ago, 60)))).date(),
                practitioner.organisation.sensitive,
                # Confirmed within the current cycle: a fresh demo asks for no check-ins
                # and shows no lapses, so its first minutes are not a flood of emails.
                self.today - timedelta(days=min(days_ago, self.rng.randint(0, 80))),
                None if practitioner.organisation.sensitive else started,
            ]
        )
        self.next_membership += 1

    def attention(
        self, client_id: int, raiser: Practitioner, text: str, category: str, *, resolved: bool
    ) -> None:
        created = self.today - timedelta(days=self.rng.randint(0, 40), hours=self.rng.randint(0, 8))
        self.attentions.append(
            [
                len(self.attentions) + 1,
                client_id,
                raiser.id,
                text,
                category,
                created,
                created + timedelta(days=2) if resolved else None,
                raiser.id if resolved else None,
                not raiser.organisation.sensitive,  # someone discreet is never named
            ]
        )

    def link(self, one: int, other: int, relationship: str, by: Practitioner | None) -> None:
        a, b, rel = ordered_pair(one, other, relationship)
        self.links.append([len(self.links) + 1, a, b, rel, by.id if by else None, self.today])

    async def save_search_index(self) -> None:
        """Postings for every client, as web.search.index_clients writes them one by one."""
        words = {row[0]: name_words(row[1], row[2], row[3]) for row in self.clients}
        ids = await word_ids(w for found in words.values() for w in found)
        first = await ClientNameWord.all().order_by("-id").first()
        next_id = (first.id if first else 0) + 1
        postings = []
        for row in self.clients:
            for word in sorted(words[row[0]]):
                postings.append([next_id, ids[word], row[6], row[0]])
                next_id += 1
        await insert_rows(ClientNameWord, POSTING_COLUMNS, postings)

    # -- the fixed story ---------------------------------------------------------------------

    def thompsons(self, practitioners: list[Practitioner]) -> None:
        """Mia, Leo and Jade Thompson of Brimbank, exactly as PRODUCT.md tells it."""
        priya, tom, aroha, sam = practitioners[:4]
        brimbank = self.areas[BRIMBANK]
        jade = self.add_client("Jade", "Thompson", brimbank, date(1997, 5, 20), None)
        leo = self.add_client("Leo", "Thompson", brimbank, date(2019, 8, 2), None)
        mia = self.add_client("Mia", "Thompson", brimbank, date(2023, 3, 14), None, "Mimi")
        self.join(mia, priya, days_ago=400)
        self.join(mia, aroha, days_ago=35)
        self.join(mia, sam, days_ago=20)  # Westside Recovery is sensitive: discreet
        self.join(leo, tom, days_ago=150)
        self.link(mia, leo, "sibling", priya)
        self.link(mia, jade, "parent", priya)
        self.link(leo, jade, "parent", aroha)
        self.attention(
            mia, aroha, "Missed two appointments — please call me", "concern", resolved=False
        )

    def personas_caseload(self, practitioners: list[Practitioner]) -> None:
        """A few more clients for each practitioner persona, so their pages look lived in."""
        for persona, practitioner in zip(PERSONAS[:4], practitioners[:4], strict=True):
            for _ in range(5):
                area = self.areas[persona.areas[0]]
                client_id = self._random_client(area)
                self.join(client_id, practitioner, days_ago=self.rng.randint(5, 600))
                self._team(client_id, area, extra=self.rng.randint(0, 2))

    # -- the crowd ---------------------------------------------------------------------------

    def fill(self, target: int) -> None:
        while len(self.clients) < target:
            area = (
                self.rng.choice(self.demo_councils)
                if self.rng.random() < 0.7
                else self.rng.choice(self.other_councils)
            )
            if self.rng.random() < 0.25 and target - len(self.clients) >= 3:
                self._household(area)
            else:
                client_id = self._random_client(area)
                self._team(client_id, area, extra=self.rng.randint(1, 3))

    def _random_client(self, area: Area, family: str | None = None, adult: bool = False) -> int:
        rng = self.rng
        age = (
            rng.randint(19, 50)
            if adult
            else (rng.randint(0, 17) if rng.random() < 0.85 else rng.randint(18, 45))
        )
        born = (self.today - timedelta(days=age * 365 + rng.randint(0, 364))).date()
        shape = rng.random()
        birth_date, birth_year = (
            (born, None) if shape < 0.85 else ((None, born.year) if shape < 0.95 else (None, None))
        )
        other = rng.choice(GIVEN_NAMES) if rng.random() < 0.2 else ""
        return self.add_client(
            rng.choice(GIVEN_NAMES),
            family or rng.choice(FAMILY_NAMES),
            area,
            birth_date,
            birth_year,
            other,
        )

    def _household(self, area: Area) -> None:
        family = self.rng.choice(FAMILY_NAMES)
        parent = self._random_client(area, family, adult=True)
        self._team(parent, area, extra=self.rng.randint(0, 2))
        children = [self._random_client(area, family) for _ in range(self.rng.randint(1, 3))]
        for child in children:
            self._team(child, area, extra=self.rng.randint(1, 3))
            self.link(child, parent, "parent", None)
        for older, younger in zip(children, children[1:], strict=False):
            self.link(older, younger, "sibling", None)

    def _team(self, client_id: int, area: Area, extra: int) -> None:
        pool = self.nearby.get(self.district_of[area.id] or 0) or self.statewide
        members = self.rng.sample(pool, k=min(extra, len(pool)))
        if self.rng.random() < 0.1:
            members.append(self.rng.choice(self.statewide))
        for member in members:
            self.join(client_id, member, days_ago=self.rng.randint(1, 700))
        if members and self.rng.random() < 0.15:
            self.join(
                client_id, self.rng.choice(pool), days_ago=self.rng.randint(200, 900), ended=True
            )
        if members and self.rng.random() < 0.08:
            self.attention(
                client_id,
                members[0],
                self.rng.choice(ATTENTION_TEXTS),
                self.rng.choice(("concern", "information", "meeting", "")),
                resolved=self.rng.random() < 0.5,
            )

    async def save(self) -> None:
        await insert_rows(Client, CLIENT_COLUMNS, self.clients)
        await self.save_search_index()
        await insert_rows(Membership, MEMBERSHIP_COLUMNS, self.memberships)
        await insert_rows(Attention, ATTENTION_COLUMNS, self.attentions)
        await insert_rows(CircleLink, LINK_COLUMNS, self.links)


CLIENT_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "other_names",
    "birth_date",
    "birth_year",
    "area_id",
    "sharing_basis",
    "legal_basis",
    "created_at",
)
MEMBERSHIP_COLUMNS = (
    "id",
    "client_id",
    "practitioner_id",
    "role",
    "started_at",
    "ended_at",
    "end_reason",
    "last_contact_on",
    "discreet",
    "last_confirmed_at",
    "visible_since",
)
POSTING_COLUMNS = ("id", "word_id", "area_id", "client_id")
ATTENTION_COLUMNS = (
    "id",
    "client_id",
    "raised_by_id",
    "text",
    "category",
    "created_at",
    "resolved_at",
    "resolved_by_id",
    "named",
)
LINK_COLUMNS = ("id", "client_a_id", "client_b_id", "relationship", "created_by_id", "created_at")


async def insert_rows(model: type[Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """One multi-row INSERT with explicit ids, values converted as Tortoise would."""
    if not rows:
        return
    connection = connections.get("default")
    fields = [model._meta.fields_map[column] for column in columns]
    sqlite = db.dialect() == "sqlite"
    marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, len(columns) + 1))
    names = ", ".join(f'"{column}"' for column in columns)
    sql = f'INSERT INTO "{model._meta.db_table}" ({names}) VALUES ({marks})'
    values = [[f.to_db_value(v, model) for f, v in zip(fields, row, strict=True)] for row in rows]
    await connection.execute_many(sql, values)
    if not sqlite:  # explicit ids bypass the sequence: move it past them
        table = model._meta.db_table
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        highest = f'(SELECT MAX(id) FROM "{table}")'
        await connection.execute_query(f"SELECT setval({sequence}, {highest})")
