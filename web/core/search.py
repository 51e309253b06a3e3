"""Client search by name: forgiving of typos, order, partial names, hyphens, apostrophes,
accents and other names, answered from database indexes.

How (figures in docs/PERFORMANCE.md):
- Each client's names are split into normalised words ("Zoë O'Brien-Nguyen" → zoe, obrien,
  nguyen, obriennguyen). Words live once in `name_word`; postings (word, area, client) in
  `client_name_word`, indexed in that order.
- A query token is expanded against the vocabulary, which each process keeps in memory (kept
  current by its own writes, a top-up every 2 seconds and one before any search meeting a word
  it does not know, web/core/name_index.py): exact word,
  words it begins, and words within one edit (two for long tokens) found through a deletion
  index (SymSpell).
- For each token the database finds the clients having any of its words in the wanted areas,
  and keeps those matching every token: INTERSECT when every token is narrow; when one is broad
  (a prefix such as "mi"), the narrowest token drives and the others are probed per candidate.
  Exact words and the words they begin come first; near misses only when those find too few.
- Candidates are ranked in Python by how well each token matched (names in the usual order
  first); a date or year of birth filters in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from tortoise import connections

from models.clients import Client
from web.core import db
from web.core.access import on_team_sql
from web.core.areas import area_tree
from web.core.name_index import Vocabulary, name_words, top_up_unless_fresh, vocabulary

#: Results per group: enough to recognise someone, too few to browse.
GROUP_SIZE = 20
#: Tokens matching at most this many words are intersected; broader ones are probed.
NARROW = 12
#: Candidates fetched per pass, before ranking.
CANDIDATES = 1000


# -- searching --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    tokens: tuple[str, ...]
    born_on: date | None = None
    born_in: int | None = None

    @property
    def acceptable(self) -> bool:
        """Two name fragments (one of 2+ letters), or one plus a date or year of birth."""
        long_enough = any(len(t) >= 2 for t in self.tokens)
        if self.born_on or self.born_in:
            return len(self.tokens) >= 1 and long_enough
        return len(self.tokens) >= 2 and long_enough

    @property
    def normalised(self) -> str:
        """The same for the same words in any order with the same birth details: what the
        search limit counts once, however many of its groups are asked for."""
        return f"{' '.join(sorted(self.tokens))}|{self.born_on or ''}|{self.born_in or ''}"


@dataclass(frozen=True)
class Hit:
    client: Client
    score: float
    #: The searching practitioner is on this client's team.
    mine: bool = False


@dataclass
class Expansion:
    strong: dict[str, float]  # word → quality, exact and prefix matches
    weak: dict[str, float]  # near misses


def expand(token: str, words: Vocabulary) -> Expansion:
    strong: dict[str, float] = {}
    if token in words.ids:
        strong[token] = 1.0
    for word in words.prefixed(token):  # what someone typed the start of beats a near miss
        strong.setdefault(word, 0.8 + 0.15 * len(token) / len(word))
    weak: dict[str, float] = {}
    if len(token) == 2 and token[::-1] in words.ids and token[::-1] not in strong:
        weak[token[::-1]] = 0.7  # "ov" for "Vo": a swap in a two-letter name
    if len(token) >= 3:
        for word, d in words.near(token).items():
            if word not in strong:
                weak[word] = 0.7 if d == 1 else 0.5
    return Expansion(strong, weak)


async def search(
    query: Query,
    *,
    in_areas: Sequence[int] | None = None,
    not_in_areas: Sequence[int] = (),
    limit: int = GROUP_SIZE,
    viewer_id: int = 0,
) -> list[Hit]:
    """Best matches for `query` among clients in `in_areas` (None: anywhere) and not in
    `not_in_areas`, best first, at most `limit`, each saying whether `viewer_id` is on the
    client's team."""
    found = await search_groups(
        query, {"": (in_areas, not_in_areas)}, limit=limit, viewer_id=viewer_id
    )
    return found[""]


Where = tuple[Sequence[int] | None, Sequence[int]]


async def search_groups(
    query: Query, groups: dict[str, Where], *, limit: int = GROUP_SIZE, viewer_id: int = 0
) -> dict[str, list[Hit]]:
    """`search` for several groups of areas at once (name → in and not in): one statement.
    For each group, the candidates by exact and prefix matches, the near misses only where
    those found fewer than `limit`, and the candidates' rows."""
    found: dict[str, list[Hit]] = {name: [] for name in groups}
    if not query.tokens:
        return found
    words = await vocabulary()
    expansions = [expand(t, words) for t in query.tokens]
    if any(not e.strong for e in expansions):
        # A word no client of this process's vocabulary has may be one another process has
        # just written: look (one statement, only then), so it is found at once everywhere.
        await top_up_unless_fresh()
        expansions = [expand(t, words) for t in query.tokens]
    qualities = [{**e.strong, **e.weak} for e in expansions]
    strong = [e.strong for e in expansions]
    statement = Statement(db.dialect() == "sqlite")
    parts = []
    for n, (in_areas, not_in_areas) in enumerate(groups.values()):
        matching = _candidates(statement, query, words, strong, in_areas, not_in_areas)
        if any(e.weak for e in expansions):
            near = _candidates(statement, query, words, qualities, in_areas, not_in_areas)
            if near and matching:
                # A condition on nothing but the first pass: the database checks it once and
                # skips the second pass when the first found enough.
                matching = (
                    f"WITH strong AS ({matching}) SELECT client_id FROM strong UNION "
                    f"SELECT client_id FROM ({near}) n "
                    f"WHERE (SELECT COUNT(*) FROM strong) < {limit}"
                )
            matching = matching or near
        if matching:
            parts.append(
                f"SELECT {n} AS grp, c.*, {on_team_sql('c.id', viewer_id)} AS mine "
                f"FROM ({matching}) m "
                f"JOIN client c ON c.id = m.client_id"
            )
    if not parts:
        return found
    rows = await connections.get("default").execute_query_dict(
        " UNION ALL ".join(parts), statement.params
    )
    names = list(groups)
    tree = await area_tree()
    for n, name in enumerate(names):
        scored = []
        for row in rows:
            if row["grp"] != n:
                continue
            score = _score(row["given_name"], row["family_name"], row["other_names"], qualities)
            if score is not None:
                scored.append((-score, row["family_name"], row["given_name"], row["id"], row))
        for negative, *_names, row in sorted(scored, key=lambda s: s[:4])[:limit]:
            values = {k: v for k, v in row.items() if k not in ("grp", "mine")}
            client = Client._init_from_db(**values)
            client.area = tree.get(client.area_id)  # type: ignore[assignment,attr-defined]
            found[name].append(Hit(client, -negative, bool(row["mine"])))
    return found


#: Every column of a client, as the model reads them.
CLIENT_COLUMNS = "c.*"


class Statement:
    """Parameters of a statement being written, in the dialect's style."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.params: list[object] = []

    def mark(self, value: object) -> str:
        self.params.append(value)
        return "?" if self.sqlite else f"${len(self.params)}"


def _score(given: str, family: str, other: str, qualities: list[dict[str, float]]) -> float | None:
    """Mean quality of each token's best match in the client's names (None if one misses).

    Names in the usual order rank first: the first token against the given name, the last
    against the family name; other orders, and aliases, count a little less. A word may
    answer two tokens ("o brien" → obrien), at a small discount.
    """
    fields = (name_words(given), name_words(family), name_words(other))
    last = len(qualities) - 1
    total = 0.0
    used: set[str] = set()
    for position, wanted in enumerate(qualities):
        best: tuple[float, str] | None = None
        for word, quality in wanted.items():
            if word in fields[0]:
                weight = 1.0 if position == 0 else 0.97
            elif word in fields[1]:
                weight = 1.0 if position == last else 0.97
            elif word in fields[2]:
                weight = 0.9
            else:
                continue
            if word in used:
                weight *= 0.9
            if best is None or quality * weight > best[0]:
                best = (quality * weight, word)
        if best is None:
            return None
        total += best[0]
        used.add(best[1])
    return total / len(qualities)


def _candidates(
    statement: Statement,
    query: Query,
    words: Vocabulary,
    per_token: list[dict[str, float]],
    in_areas: Sequence[int] | None,
    not_in_areas: Sequence[int],
) -> str:
    """The statement finding candidates' ids (at most CANDIDATES), or "" for none."""
    if any(not wanted for wanted in per_token):
        return ""

    def numbers(values: Iterable[int]) -> str:
        # Ids are integers from our own tables: inlined, they keep the statement small.
        return ", ".join(str(int(v)) for v in values)

    area_filter = ""
    if in_areas is not None:
        area_filter += f" AND d.area_id IN ({numbers(in_areas) or 'NULL'})"
    if not_in_areas:
        area_filter += f" AND d.area_id NOT IN ({numbers(not_in_areas)})"
    if max(len(wanted) for wanted in per_token) <= NARROW:
        # Every token is narrow: intersect their postings.
        matching = " INTERSECT ".join(
            f"SELECT d.client_id FROM client_name_word d "
            f"WHERE d.word_id IN ({numbers(words.ids[w] for w in wanted)}){area_filter}"
            for wanted in per_token
        )
    else:
        # A broad token (a prefix like "mi"): the narrowest token drives, and the others are
        # probed per candidate through the client_id index instead of scanning their postings.
        order = sorted(
            range(len(per_token)), key=lambda i: (len(per_token[i]), -len(query.tokens[i]))
        )
        driver, *filters = (per_token[i] for i in order)
        matching = (
            f"SELECT DISTINCT d.client_id FROM client_name_word d "
            f"WHERE d.word_id IN ({numbers(words.ids[w] for w in driver)}){area_filter}"
        ) + "".join(
            f" AND EXISTS (SELECT 1 FROM client_name_word f{n} WHERE "
            f"f{n}.client_id = d.client_id AND f{n}.word_id IN "
            f"({numbers(words.ids[w] for w in wanted)}))"
            for n, wanted in enumerate(filters)
        )
    if query.born_on is not None:
        born = f"b.birth_date = {statement.mark(query.born_on)}"
    elif query.born_in is not None:
        sqlite = statement.sqlite
        year = "strftime('%Y', b.birth_date)" if sqlite else "EXTRACT(YEAR FROM b.birth_date)"
        born = (
            f"(b.birth_year = {statement.mark(query.born_in)} "
            f"OR CAST({year} AS INTEGER) = {statement.mark(query.born_in)})"
        )
    else:
        born = ""
    if born:
        return (
            f"SELECT x.client_id FROM ({matching}) x JOIN client b ON b.id = x.client_id "
            f"WHERE {born} LIMIT {CANDIDATES}"
        )
    return f"SELECT x.client_id FROM ({matching}) x LIMIT {CANDIDATES}"
