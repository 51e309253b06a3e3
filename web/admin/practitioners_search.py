"""Finding practitioners an administrator manages: those whose organisation is based in the
councils they look after, filtered, searched by name the forgiving way client search is
(web/core/search.py: accents and hyphens folded, prefixes, one or two typos) or by email, a
page at a time (keyset: each page starts after the last practitioner of the one before).

Nothing here counts or names anyone's clients. "Never joined a team" counts every membership,
discreet ones too, current or ended: were discreet ones left out, a sensitive service's member
listed as never joined though seen busy elsewhere (or the dashboard's figure, which counts
every membership) would betray a discreet involvement. All it says is "has been on a team".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.expressions import Q, Subquery

from models.practitioners import SIGNUP_ANSWERED, Practitioner
from models.teams import Membership
from web.core.name_index import Vocabulary, fold, name_words, query_tokens
from web.core.search import expand

PER_PAGE = 50
#: The filters, as query parameters (the dashboard links to ?never_joined=1).
FILTERS = {
    "never_joined": "Never joined a team",
    "awaiting": "Organisation awaiting confirmation",
    "deactivated": "Deactivated",
    "admins": "Administrators",
}


def never_joined() -> Q:
    """Signed up and active, and on no team but discreetly: a discreet membership does not
    count, so the list (and the dashboard's figure, its length) is the same whether or not one
    exists."""
    ever = Subquery(Membership.filter(discreet=False).values("practitioner_id"))
    return Q(active=True, signup_step__gte=SIGNUP_ANSWERED) & ~Q(id__in=ever)


def filtered(where: Q, chosen: set[str]) -> Q:
    """Practitioners within `where` (`practitioners_scope.reach`) matching every filter."""
    if "never_joined" in chosen:
        where &= never_joined()
    if "awaiting" in chosen:
        where &= Q(organisation_vouched_by_id__isnull=False, organisation_confirmed_at__isnull=True)
    if "deactivated" in chosen:
        where &= Q(active=False)
    if "admins" in chosen:
        where &= Q(role__in=("local_admin", "state_admin"))
    return where


def words_of(name: str, email: str) -> set[str]:
    """The words someone is found by: their names, and the parts of their email's local part
    ("grace.okafor@…" → grace, okafor)."""
    local = email.split("@", 1)[0]
    return name_words(name) | name_words(re.sub(r"[._+-]", " ", local))


def ranked(rows: list[tuple[int, str, str]], q: str) -> list[int]:
    """Ids of the rows (id, name, email) matching every word of `q`, best first, then by name.
    A query with "@" in it matches part of an email address instead."""
    if "@" in q:
        wanted = q.strip().lower()
        found = [(name.lower(), id_) for id_, name, email in rows if wanted in email]
        return [id_ for _name, id_ in sorted(found)]
    tokens = query_tokens(q)
    if not tokens:
        return []
    words = Vocabulary()
    people = [(id_, name, words_of(name, email)) for id_, name, email in rows]
    for _id, _name, own_words in people:
        for word in own_words:
            words.add(len(words.ids) + 1, word)
    expansions = [expand(token, words) for token in tokens]
    qualities = [{**e.weak, **e.strong} for e in expansions]
    scored = []
    for id_, name, own in people:
        best = [
            max((quality for w, quality in wanted.items() if w in own), default=0.0)
            for wanted in qualities
        ]
        if all(best):
            scored.append((-sum(best) / len(best), fold(name), id_))
    return [id_ for _score, _name, id_ in sorted(scored)]


@dataclass(frozen=True)
class Found:
    people: list[Practitioner]
    #: Where the next page starts (after this practitioner's id), or None on the last page.
    next_after: int | None


async def page_of(where: Q, q: str, after: int | None) -> Found:
    """One page of practitioners matching `where` (and the search `q`), after `after`."""
    query = Practitioner.filter(where)
    if q:
        rows = await query.values_list("id", "name", "email")
        order = ranked([(int(str(i)), str(n), str(e)) for i, n, e in rows], q)
        start = order.index(after) + 1 if after in order else 0
        ids = order[start : start + PER_PAGE + 1]
        by_id = {p.id: p for p in await loaded(Practitioner.filter(id__in=ids))}
        people = [by_id[i] for i in ids if i in by_id]
    else:
        last = None if after is None else await Practitioner.filter(where, id=after).first()
        if last is not None:  # (within `where`: an id outside says nothing about order)
            query = query.filter(Q(name__gt=last.name) | Q(name=last.name, id__gt=last.id))
        people = await loaded(query.order_by("name", "id").limit(PER_PAGE + 1))
    more = len(people) > PER_PAGE
    return Found(people[:PER_PAGE], people[PER_PAGE - 1].id if more else None)


def loaded(query):  # type: ignore[no-untyped-def]
    """What a listed card shows: the organisation, and who vouched for it."""
    return query.select_related("organisation__area", "organisation_vouched_by")
