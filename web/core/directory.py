"""Finding colleagues and services, for the phone book and the one search box: each word
typed matches a name, job title, organisation or service type, and forgives a typo the way
client names do ("aroah" finds Aroha), through a vocabulary of the directory's words each
process keeps in memory.

The vocabulary only widens what is asked for: every match is still a substring of what the
database holds, so a stale or extra word can cost a wasted alternative, never a wrong result.
It is read whole on first use, kept up to date by this process's own saves (Tortoise's
post_save signal) and read afresh every REFRESH_SECONDS for what other processes wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass, field
from functools import reduce
from operator import and_, or_
from typing import Any

from tortoise import connections
from tortoise.expressions import Case, Q, When
from tortoise.signals import post_save

from models.audit import AuditEvent
from models.organisations import Organisation
from models.practitioners import SIGNUP_ANSWERED, Practitioner
from web.core import access, audit, db
from web.core import services as services_kept
from web.core.name_index import Vocabulary, fold

#: Results a group shows: the phone book's, and the one search box's (more are a tap away).
PER_GROUP = 20
BRIEF = 5
MAX_TERMS = 5
#: Near words tried for one typed word, closest first.
MAX_NEAR = 6
#: Services matching a search are read in one statement for both groups, then split.
SERVICES_READ = 500
#: People read per group before ranking (exact matches before typo matches).
PEOPLE_READ = 100
#: How often each process reads the vocabulary afresh, for other processes' writes.
REFRESH_SECONDS = 60.0


def terms_of(text: str) -> list[str]:
    """The words searched for: two letters or more, at most MAX_TERMS."""
    return [t for t in text.lower().split() if len(t) >= 2][:MAX_TERMS]


# -- the vocabulary ---------------------------------------------------------------------------


@dataclass
class Words:
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    #: A folded word → how it is written ("zoe" → {"zoë"}), for the substring match.
    forms: dict[str, set[str]] = field(default_factory=dict)

    def add(self, *texts: str) -> None:
        # In order, so each word goes on the end of the vocabulary's sorted list.
        for folded, written in sorted(written_words(*texts)):
            self.forms.setdefault(folded, set()).add(written)
            self.vocabulary.add(0, folded, seen=False)

    def alternatives(self, term: str) -> tuple[list[str], list[str]]:
        """How `term` may be written in the database: as typed (and its accented forms), and
        the words one typo away (two for long words), closest first."""
        folded = fold(term)
        exact = {term, *self.forms.get(folded, ())}
        near = sorted(self.vocabulary.near(folded).items(), key=lambda wd: (wd[1], wd[0]))
        typos = {written for word, _ in near[:MAX_NEAR] for written in self.forms[word]}
        return sorted(exact), sorted(typos - exact)


def written_words(*texts: str) -> set[tuple[str, str]]:
    """(folded, as written) for each word of two letters or more: ("zoe", "zoë")."""
    pairs = {(fold(w), w) for text in texts for w in WORD.findall(text.lower())}
    return {(folded, w) for folded, w in pairs if len(folded) >= 2}


WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


async def words() -> Words:
    known = _words.get(str(db.opened))
    if known is None:
        known = await read_words()
    return known


async def read_words() -> Words:
    """Every name and job title the phone book lists (`access.listed_in_phone_book`: active,
    signup answered, so nobody unlisted shapes a result) and every organisation's name and
    type: one statement."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT name AS t, job_title AS u FROM practitioner"
        f" WHERE active AND signup_step >= {SIGNUP_ANSWERED}"
        " UNION ALL SELECT name, service_type FROM organisation"
    )
    fresh = Words()
    fresh.add(*(text or "" for row in rows for text in (row["t"], row["u"])))
    _words[str(db.opened)] = fresh
    return fresh


async def keep_fresh(stop: asyncio.Event) -> None:
    """Read the vocabulary afresh every REFRESH_SECONDS until `stop` (the app's lifespan)."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
        if stop.is_set():
            return
        try:
            await read_words()
        except Exception:  # a database blip: said, and tried again next time
            log.warning("could not read the directory's words", exc_info=True)


@post_save(Practitioner)
async def _practitioner_saved(_sender: Any, instance: Practitioner, *_args: Any) -> None:
    listed = instance.active and instance.signup_step >= SIGNUP_ANSWERED
    if listed and (known := _words.get(str(db.opened))) is not None:
        known.add(instance.name, instance.job_title)


@post_save(Organisation)
async def _organisation_saved(_sender: Any, instance: Organisation, *_args: Any) -> None:
    if (known := _words.get(str(db.opened))) is not None:
        known.add(instance.name, instance.service_type)


# -- searching --------------------------------------------------------------------------------


def _any_of(words: list[str], *fields: str) -> Q:
    return reduce(or_, (Q(**{f"{f}__icontains": w}) for w in words for f in fields))


PEOPLE_FIELDS = ("name", "job_title", "organisation__name")


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

    exact: list[list[str]]
    people: Q
    #: Each term's forms, exact and typo, that a service's name or type may contain.
    services: list[list[str]]

    def typos(self, *texts: str) -> int:
        """How many terms matched only through a typo: ranks exact matches first."""
        written = " ".join(texts).lower()
        return sum(not any(w in written for w in forms) for forms in self.exact)

    def person_rank(self, person: Practitioner) -> int:
        return self.typos(person.name, person.job_title, person.organisation.name)

    def service_rank(self, service: Organisation) -> int:
        return self.typos(service.name, service.service_type)


async def widened(terms: list[str]) -> Search:
    known = await words()
    alternatives = [known.alternatives(t) for t in terms]
    return Search(
        exact=[forms for forms, _ in alternatives],
        people=reduce(and_, (_any_of(a + b, *PEOPLE_FIELDS) for a, b in alternatives)),
        services=[a + b for a, b in alternatives],
    )


def _people(search: Search) -> Any:
    return Practitioner.filter(access.listed_in_phone_book(), search.people).select_related(
        "organisation", "organisation_vouched_by"
    )


async def _services(
    search: Search, area_ids: list[int], per_group: int, version: int | None
) -> tuple[list, list]:
    """Services in and outside these areas, from the organisations this process keeps (no
    statement while `version`, the request's, is the one kept: web/core/services.py)."""
    services = services_kept.matching(
        await services_kept.organisations(version), search.services, SERVICES_READ
    )
    services.sort(key=search.service_rank)  # stable: by name within each rank
    local = set(area_ids)
    return (
        [s for s in services if s.area_id in local][:per_group],  # type: ignore[attr-defined]
        [s for s in services if s.area_id not in local][:per_group],  # type: ignore[attr-defined]
    )


async def find(terms: list[str], area_ids: list[int], version: int | None) -> Directory:
    """The phone book's: PER_GROUP a group. People one statement a group, services from
    memory while the organisations' `version` stands."""
    search = await widened(terms)
    where = Q(organisation__area_id__in=area_ids)

    async def ranked(query: Any) -> list[Practitioner]:
        found = await query.order_by("name").limit(PEOPLE_READ)
        found.sort(key=search.person_rank)
        return found[:PER_GROUP]

    local_services, other_services = await _services(search, area_ids, PER_GROUP, version)
    return Directory(
        local=Found(people=await ranked(_people(search).filter(where)), services=local_services),
        elsewhere=Found(
            people=await ranked(_people(search).exclude(where)), services=other_services
        ),
    )


async def find_brief(terms: list[str], area_ids: list[int], version: int | None) -> Directory:
    """The one search box's: BRIEF people and BRIEF services, your areas first (people one
    statement, services from memory as `find`'s), with more a tap away in the phone book."""
    search = await widened(terms)
    mine = Case(When(organisation__area_id__in=area_ids, then="0"), default="1")
    people = await (
        _people(search).annotate(elsewhere=mine).order_by("elsewhere", "name").limit(PEOPLE_READ)
    )
    people.sort(key=lambda p: (p.elsewhere, search.person_rank(p)))  # type: ignore[attr-defined]
    people = people[:BRIEF]
    local_services, other_services = await _services(search, area_ids, BRIEF, version)
    local = set(area_ids)
    return Directory(
        local=Found(
            people=[p for p in people if p.organisation.area_id in local],  # type: ignore[attr-defined]
            services=local_services,
        ),
        elsewhere=Found(
            people=[p for p in people if p.organisation.area_id not in local],  # type: ignore[attr-defined]
            services=other_services[: BRIEF - len(local_services)],
        ),
    )


def searched(request: Any, text: str, found: Directory) -> AuditEvent:
    """The audit event of a directory search (written with the request's other events)."""
    people = sum(len(f.people) for _, f in found.groups)
    services = sum(len(f.services) for _, f in found.groups)
    return audit.event(request, "directory.searched", terms=text, people=people, services=services)


_words: dict[str, Words] = {}
log = logging.getLogger("patchwork")
