"""The audit trail is append-only and tamper-evident: a hash chain over every event.

The worker seals events in its scheduled round (every 5 minutes): each unsealed event, oldest
first, gets the next place in the chain (`chain_seq`) and `chain_hash` = SHA-256(the previous
event's hash, this event's content). Changing a sealed event's content breaks its own hash;
deleting one leaves a gap in the places; either is found by `verify` (`python -m web audit-
verify`). Sealing later than writing keeps every request free of a lock that would serialise
them, and lets a transaction that commits late still join the chain (places follow sealing, not
ids); an event is open to undetected change only until it is sealed, minutes later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from models.audit import AuditEvent
from web.core import db

#: The hash before the first event.
GENESIS = "0" * 64
#: Events sealed per transaction, and read per page when verifying.
BATCH = 1000
#: PostgreSQL advisory lock held while one worker seals.
SEAL_LOCK = 0x5EA1A0D1
CONTENT = ("id", "at", "actor_id", "action", "client_id", "area_id", "ip", "detail")


def content(event: AuditEvent) -> bytes:
    """What the hash covers: every column but the chain's own, in a fixed form."""
    values = {name: getattr(event, name) for name in CONTENT}
    values["at"] = event.at.timestamp()  # the instant, whatever zone the database hands back
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode()


def link(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous.encode() + content(event)).hexdigest()


async def _last_sealed() -> tuple[int, str]:
    last = await AuditEvent.filter(chain_seq__isnull=False).order_by("-chain_seq").first()
    if last is None:
        return 0, GENESIS
    assert last.chain_seq is not None and last.chain_hash is not None
    return last.chain_seq, last.chain_hash


async def seal() -> int:
    """Seal up to BATCH unsealed events (oldest first); how many were sealed."""
    async with in_transaction() as connection:
        if db.dialect() == "postgres":
            await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [SEAL_LOCK])
        seq, previous = await _last_sealed()
        waiting = await AuditEvent.filter(chain_seq__isnull=True).order_by("id").limit(BATCH)
        for event in waiting:
            seq, previous = seq + 1, link(previous, event)
            await AuditEvent.filter(id=event.id).update(chain_seq=seq, chain_hash=previous)
    return len(waiting)


async def seal_all() -> int:
    sealed = total = await seal()
    while sealed == BATCH:
        sealed = await seal()
        total += sealed
    return total


@dataclass(frozen=True)
class Verdict:
    """What verifying found: `problem` is empty when the chain is intact."""

    checked: int
    waiting: int = 0
    problem: str = ""
    #: The last sealed event's hash: kept outside the database, it shows a cut-off end.
    head: str = GENESIS

    @property
    def intact(self) -> bool:
        return not self.problem


async def verify() -> Verdict:
    """Walk the chain in order, page by page (keyset on the place), recomputing every hash:
    the first altered or missing event is the problem."""
    expected_seq, previous, checked = 1, GENESIS, 0
    while True:
        page = (
            await AuditEvent.filter(chain_seq__gte=expected_seq).order_by("chain_seq").limit(BATCH)
        )
        for event in page:
            if event.chain_seq != expected_seq:
                return Verdict(checked, problem=f"event {expected_seq} of the chain is missing")
            if link(previous, event) != event.chain_hash:
                return Verdict(
                    checked,
                    problem=f"event {expected_seq} of the chain (id {event.id}, {event.action}) "
                    "was altered",
                )
            assert event.chain_hash is not None
            expected_seq, previous, checked = expected_seq + 1, event.chain_hash, checked + 1
        if len(page) < BATCH:
            break
    waiting = await AuditEvent.filter(chain_seq__isnull=True).count()
    return Verdict(checked, waiting, head=previous)
