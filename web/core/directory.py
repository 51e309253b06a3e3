"""Finding colleagues and services, for the phone book and the one search box: each word
typed matches a name, job title, organisation or service type, and forgives a typo the way
client names do ("aroah" finds Aroha), through a vocabulary of the directory's words.

Each process keeps the listed colleagues, the organisations and those words in memory,
stamped with the version triggers move on every change that could alter a result
(web/core/colleagues.py, web/core/services.py): matching costs no statement, and the people
found are read by id in one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.audit import AuditEvent
from models.organisations import Organisation
from models.practitioners import Practitioner
from web.core import access, audit, colleagues
from web.core import services as services_kept

#: Results a group shows: the phone book's, and the one search box's (more are a tap away).
PER_GROUP = 20
BRIEF = 5
MAX_TERMS = 5
#: Services matching a search are read in one statement for both groups, then split.
SERVICES_READ = 500


def terms_of(text: str) -> list[str]:
    """The words searched for: two letters or more, at most MAX_TERMS."""
    return [t for t in text.lower().split() if len(t) >= 2][:MAX_TERMS]


# -- searching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    people: list[Practitioner]
    services: list[Organisation]


@dataclass(frozen=True)
class Directory:
    """Both groups, in and outside the searcher's council areas (by the organisation's)."""

    local: Found
    elsewhere: Found

    @property
    def groups(self) -> list[tuple[str, Found]]:
        return [("In your areas", self.local), ("Elsewhere", self.elsewhere)]

    @property
    def empty(self) -> bool:
        return not any(f.people or f.services for f in (self.local, self.elsewhere))


@dataclass(frozen=True)
class Search:
    """What was typed, widened by the vocabulary: each term's exact forms and typo forms."""

    kept: colleagues.Kept
    exact: list[list[str]]
    typos: list[list[str]]

    @property
    def every(self) -> list[list[str]]:
        """Each term's forms, exact and typo, that a name, title or type may contain."""
        return [a + b for a, b in zip(self.exact, self.typos, strict=True)]

    def typos_in(self, *texts: str) -> int:
        """How many terms matched only through a typo: ranks exact matches first."""
        written = " ".join(texts).lower()
        return sum(not any(w in written for w in forms) for forms in self.exact)

    def service_rank(self, service: Organisation) -> int:
        return self.typos_in(service.name, service.service_type)

    def people(self, area_ids: list[int]) -> list[tuple[bool, int, int]]:
        """Every listed colleague matching every term, as (elsewhere, typos, position in name
        order), sorted: in or outside these areas, exact matches before typo matches."""
        kept = self.kept
        found: set[int] | None = None
        exactly: list[set[int]] = []
        for exact, typos in zip(self.exact, self.typos, strict=True):
            exact_hits = kept.having(exact)
            hits = exact_hits | kept.having(typos)
            found = hits if found is None else found & hits
            if not found:
                return []
            exactly.append(exact_hits)
        local = set(area_ids)
        return sorted(
            (kept.area_ids[at] not in local, sum(at not in e for e in exactly), at)
            for at in found or ()
        )


async def widened(terms: list[str], version: int | None) -> Search:
    kept = await colleagues.kept(version)
    alternatives = [kept.words.alternatives(t) for t in terms]
    return Search(kept=kept, exact=[a for a, _ in alternatives], typos=[b for _, b in alternatives])


async def _read(search: Search, positions: list[int]) -> list[Practitioner]:
    """The colleagues at these positions, in that order: one statement (none for nobody)."""
    if not positions:
        return []
    ids = [search.kept.ids[at] for at in positions]
    found = await Practitioner.filter(access.listed_in_phone_book(), id__in=ids).select_related(
        "organisation", "organisation_vouched_by"
    )
    by_id = {p.id: p for p in found}
    return [by_id[i] for i in ids if i in by_id]


def _services(search: Search, area_ids: list[int], per_group: int) -> tuple[list, list]:
    """Services in and outside these areas, from the organisations the process keeps."""
    services = services_kept.matching(search.kept.organisations, search.every, SERVICES_READ)
    services.sort(key=search.service_rank)  # stable: by name within each rank
    local = set(area_ids)
    return (
        [s for s in services if s.area_id in local][:per_group],  # type: ignore[attr-defined]
        [s for s in services if s.area_id not in local][:per_group],  # type: ignore[attr-defined]
    )


def _in_areas(people: list[Practitioner], area_ids: list[int], inside: bool) -> list:
    local = set(area_ids)
    return [p for p in people if (p.organisation.area_id in local) == inside]  # type: ignore[attr-defined]


async def find(terms: list[str], area_ids: list[int], version: int | None) -> Directory:
    """The phone book's: PER_GROUP a group, people read in one statement, services from
    memory while the directory's `version` (the request's) stands."""
    search = await widened(terms, version)
    ranked = search.people(area_ids)
    mine = [at for elsewhere, _, at in ranked if not elsewhere][:PER_GROUP]
    theirs = [at for elsewhere, _, at in ranked if elsewhere][:PER_GROUP]
    people = await _read(search, mine + theirs)
    local_services, other_services = _services(search, area_ids, PER_GROUP)
    return Directory(
        local=Found(people=_in_areas(people, area_ids, True), services=local_services),
        elsewhere=Found(people=_in_areas(people, area_ids, False), services=other_services),
    )


async def find_brief(terms: list[str], area_ids: list[int], version: int | None) -> Directory:
    """The one search box's: BRIEF people and BRIEF services, your areas first (as `find`'s),
    with more a tap away in the phone book."""
    search = await widened(terms, version)
    people = await _read(search, [at for _, _, at in search.people(area_ids)[:BRIEF]])
    local_services, other_services = _services(search, area_ids, BRIEF)
    return Directory(
        local=Found(people=_in_areas(people, area_ids, True), services=local_services),
        elsewhere=Found(
            people=_in_areas(people, area_ids, False),
            services=other_services[: BRIEF - len(local_services)],
        ),
    )


def searched(request: Any, text: str, found: Directory) -> AuditEvent:
    """The audit event of a directory search (written with the request's other events)."""
    people = sum(len(f.people) for _, f in found.groups)
    services = sum(len(f.services) for _, f in found.groups)
    return audit.event(request, "directory.searched", terms=text, people=people, services=services)
