"""The colleagues the directory searches, and the words its typos are forgiven against, kept
by each process in memory.

Like the organisations (web/core/services.py) and stamped with the same `directory_version`:
triggers move it whenever an organisation changes, a practitioner is added or removed, or a
practitioner's name, job title, organisation, `active` or signup step changes (migrations 0015
and 0019), and each request's session statement reads it. So a process matches colleagues
without a statement while the version it keeps stands, and every process sees a change at
its next request; web/core/directory.py then reads the few people found by id. At statewide
size (30,000 practitioners) the ILIKE scan this replaces was most of a search's time.

Everyone kept is listed in the phone book (`access.listed_in_phone_book`: active, signup
answered), so nobody unlisted is found or shapes the words a typo becomes.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from tortoise import connections

from models.practitioners import listed_sql
from web.core import db
from web.core import services as services_kept
from web.core.name_index import Vocabulary, fold

#: Near words tried for one typed word, closest first.
MAX_NEAR = 6
#: Between two colleagues' texts: no search term holds it (NUL is refused at the boundary,
#: web/core/inputs.py, and terms hold no white space), so no match spans two of them.
SEPARATOR = "\x00"


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


@dataclass(frozen=True)
class Kept:
    opened: int  # web/core/db.py `opened`: what was kept of one database is never used for another
    version: int | None
    organisations: services_kept.Kept
    #: Listed practitioners in name order: their ids and their organisations' areas.
    ids: list[int]
    area_ids: list[int]
    #: Each one's name, job title and organisation's name, lower case, SEPARATOR between
    #: them, and where each one's text starts.
    haystack: str
    starts: list[int]
    words: Words

    def having(self, forms: list[str]) -> set[int]:
        """Positions of the colleagues whose text holds one of `forms`, case ignored (as
        `icontains` on each field)."""
        found: set[int] = set()
        haystack, starts, last = self.haystack, self.starts, len(self.starts) - 1
        for form in {f.lower() for f in forms if f and SEPARATOR not in f}:
            at = haystack.find(form)
            while at != -1:
                position = bisect_right(starts, at) - 1
                found.add(position)
                at = haystack.find(form, starts[position + 1]) if position < last else -1
        return found


_kept: list[Kept] = []


async def kept(version: int | None) -> Kept:
    """The listed colleagues and the directory's words as of `version` (None: read afresh):
    one statement when the version moved, none while it stands."""
    organisations = await services_kept.organisations(version)
    known = _kept[0] if _kept else None
    if (
        known is not None
        and version is not None
        and known.opened == db.opened
        and known.version == version
        and known.organisations is organisations
    ):
        return known
    # The organisation's name and area from the same statement: the organisations kept may be
    # of an older version than this read (one added since, with people in it).
    rows = await connections.get("default").execute_query_dict(
        "SELECT p.id, p.name, p.job_title, o.name AS organisation, o.area_id FROM practitioner p"
        " JOIN organisation o ON o.id = p.organisation_id"
        f" WHERE {listed_sql('p')} ORDER BY p.name, p.id"
    )
    words = Words()
    words.add(
        *(text for o in organisations.organisations for text in (o.name, o.service_type)),
        *(row[column] or "" for row in rows for column in ("name", "job_title")),
    )
    texts, starts, at = [], [], 0
    for row in rows:
        text = f"{row['name']}\n{row['job_title'] or ''}\n{row['organisation']}"
        texts.append(text.lower())
        starts.append(at)
        at += len(texts[-1]) + len(SEPARATOR)
    fresh = Kept(
        opened=db.opened,
        version=version,
        organisations=organisations,
        ids=[row["id"] for row in rows],
        area_ids=[row["area_id"] for row in rows],
        haystack=SEPARATOR.join(texts),
        starts=starts,
        words=words,
    )
    _kept[:] = [fresh]
    return fresh
