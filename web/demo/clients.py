"""The demo's clients, teams, attentions and circles, built in memory and saved in bulk."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from models.areas import Area
from models.attentions import Attention
from models.circles import CircleLink, ordered_pair
from models.clients import Client
from models.practitioners import Practitioner
from models.search import ClientNameWord
from models.teams import Membership
from web.core.name_index import name_words, word_ids
from web.demo.data import (
    ATTENTION_TEXTS,
    BRIMBANK,
    COUNCILS,
    PERSONAS,
    VICTORIAN_BASES,
)
from web.demo.names import FAMILY_NAMES, GIVEN_NAMES
from web.demo.rows import (
    ATTENTION_COLUMNS,
    CLIENT_COLUMNS,
    LINK_COLUMNS,
    MEMBERSHIP_COLUMNS,
    POSTING_COLUMNS,
    insert_rows,
)


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
        """Postings for every client, as web.core.name_index.index_clients writes them one at a
        time."""
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
