"""The name-word index client search reads (web/core/search.py): each client's names as
normalised words, the vocabulary each process keeps in memory (with a deletion index for near
misses), and keeping the index in step with every client write."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tortoise import connections

from models.clients import Client
from web.core import db


def fold(text: str) -> str:
    """Lower case, accents and apostrophes gone: "Zoë O'Brien" → "zoe obrien"."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"['’`]", "", plain.lower())


def name_words(*names: str) -> set[str]:
    """Every word a client may be found by, including hyphenated names joined up."""
    words: set[str] = set()
    for name in names:
        for part in re.split(r"[;,/]|\s+", fold(name)):
            pieces = [p for p in SPLIT.split(part) if p]
            words.update(pieces)
            if len(pieces) > 1:
                words.add("".join(pieces))
    return {w[:80] for w in words if w}


def query_tokens(text: str) -> list[str]:
    return [t for t in SPLIT.split(fold(text)) if t][:6]


def distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap counts as one edit), cut off above `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def deletes(word: str, depth: int) -> set[str]:
    found, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))} - found
        found |= frontier
    return found


#: Words sharing a long token's first three letters looked at for two edits.
PREFIX_SCAN = 3000


@dataclass
class Vocabulary:
    ids: dict[str, int] = field(default_factory=dict)
    ordered: list[str] = field(default_factory=list)
    #: One-deletion variants → the words they come from (SymSpell).
    variants: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    highest_id: int = 0
    #: Read whole from the database at least once.
    loaded: bool = False
    #: When it last looked for other processes' words (time.monotonic()).
    looked_at: float = 0.0

    def add(self, word_id: int, word: str, *, seen: bool = True) -> None:
        """Add a word; `seen=False` for one this process wrote, whose transaction may yet roll
        back: the next top-up still reads every id above the highest it has seen."""
        if word in self.ids:
            return
        self.ids[word] = word_id
        bisect.insort(self.ordered, word)
        for variant in deletes(word, 1):
            self.variants[variant].add(word)
        if seen:
            self.highest_id = max(self.highest_id, word_id)

    def prefixed(self, token: str, limit: int = 300) -> list[str]:
        start = bisect.bisect_left(self.ordered, token)
        found = []
        for word in self.ordered[start : start + limit]:
            if not word.startswith(token):
                break
            found.append(word)
        return found

    def near(self, token: str) -> dict[str, int]:
        """Words within one edit (two for tokens of seven letters or more), with the distance."""
        allowed = 2 if len(token) >= 7 else 1
        candidates: set[str] = set()
        for variant in deletes(token, allowed):
            candidates |= self.variants.get(variant, set())
        if allowed == 2:
            # The deletion index holds one deletion a word, so two edits on the word's side
            # ("thomsen" for "thompson": a letter missed and one changed) are found among the
            # words sharing the token's first three letters.
            candidates.update(self.prefixed(token[:3], limit=PREFIX_SCAN))
        found = {}
        for word in candidates:
            d = distance(token, word, allowed)
            if 0 < d <= allowed:
                found[word] = d
        return found


async def vocabulary() -> Vocabulary:
    """This process's vocabulary: read whole on first use, then kept up to date by this
    process's own writes (`word_ids`) and, for words other processes add, by `keep_topped_up`
    in the background, so a search sends no statement for it."""
    known = _known()
    if not known.loaded:
        await top_up()
    return known


def _known() -> Vocabulary:
    # Words are never deleted, so ids stay valid; a database opened anew starts over.
    return _vocabulary.setdefault(str(db.opened), Vocabulary())


async def top_up() -> None:
    """Add the words other processes (or a bulk load) wrote since this one last looked."""
    known = _known()
    rows = await connections.get("default").execute_query_dict(
        f"SELECT id, word FROM name_word WHERE id > {int(known.highest_id)} ORDER BY id"
    )
    for row in rows:
        known.add(row["id"], row["word"])
    known.loaded = True
    known.looked_at = time.monotonic()


#: A search meeting an unknown word looks again unless the vocabulary looked this recently
#: (several searches of one request look once).
FRESH_SECONDS = 0.25


async def top_up_unless_fresh() -> None:
    """Look for other processes' words, unless the vocabulary did within FRESH_SECONDS."""
    if time.monotonic() - _known().looked_at > FRESH_SECONDS:
        await top_up()


#: How often each web process looks for words other processes added (a client added in one
#: process is findable by exact name in the others within this many seconds).
TOP_UP_SECONDS = 2.0


async def keep_topped_up(stop: asyncio.Event) -> None:
    """Top the vocabulary up every TOP_UP_SECONDS until `stop` (the app's lifespan runs it)."""
    while not stop.is_set():
        try:
            await top_up()
        except Exception:  # a database blip: said, and tried again next time
            log.warning("could not top up the name vocabulary", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TOP_UP_SECONDS)


def _marks(count: int, start: int = 1) -> str:
    if db.dialect() == "sqlite":
        return ", ".join("?" for _ in range(count))
    return ", ".join(f"${i}" for i in range(start, start + count))


async def word_ids(words: Iterable[str]) -> dict[str, int]:
    """Ids for these words, adding the new ones to the vocabulary table."""
    wanted = sorted(set(words))
    if not wanted:
        return {}
    connection = connections.get("default")
    await connection.execute_many(
        f"INSERT INTO name_word (word) VALUES ({_marks(1)}) ON CONFLICT (word) DO NOTHING",
        [[w] for w in wanted],
    )
    rows = await connection.execute_query_dict(
        f"SELECT id, word FROM name_word WHERE word IN ({_marks(len(wanted))})", wanted
    )
    known = _known()
    for row in rows:  # this process can find them at once
        known.add(row["id"], row["word"], seen=False)
    return {row["word"]: row["id"] for row in rows}


async def index_clients(clients: Sequence[Client]) -> None:
    """(Re)write the postings for these clients. Call inside the transaction that saved them."""
    if not clients:
        return
    connection = connections.get("default")
    ids = [c.id for c in clients]
    await connection.execute_query(
        f"DELETE FROM client_name_word WHERE client_id IN ({_marks(len(ids))})", ids
    )
    words = {c.id: name_words(c.given_name, c.family_name, c.other_names) for c in clients}
    known = await word_ids(w for ws in words.values() for w in ws)
    rows = [
        [known[w], c.area_id, c.id]  # type: ignore[attr-defined]
        for c in clients
        for w in sorted(words[c.id])
    ]
    await connection.execute_many(
        f"INSERT INTO client_name_word (word_id, area_id, client_id) VALUES ({_marks(3)})", rows
    )


SPLIT = re.compile(r"[^a-z0-9]+")


_vocabulary: dict[str, Vocabulary] = {}
log = logging.getLogger("patchwork")
