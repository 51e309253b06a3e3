"""Sliding one-hour rate limits kept in the database, so every web process shares them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from itsdangerous import BadSignature, TimestampSigner
from tortoise.transactions import in_transaction

from models.auth import RateLimitHit
from web.core import clock, db
from web.core.clock import now

WINDOW = timedelta(hours=1)

#: The first half of the PostgreSQL advisory lock taken per key (the second is the key's
#: hashtext), so these locks never meet the single-number ones (the worker's digest lock).
LOCK_SPACE = 0x52415445


async def count_attempt(key: str, limit: int, marker: str) -> bool:
    """Count an attempt against `key` unless the last hour already had `limit` of them, or
    unless `marker` was counted this hour (then it is free). Counting and recording are one
    step, so simultaneous attempts never all see room for one more: on PostgreSQL a function
    (migration 0013) takes an advisory lock for the key first, one statement; on SQLite the
    transaction holds the only connection, a look and, for a new marker, a write."""
    moment = now()
    since = moment - WINDOW
    async with in_transaction() as connection:
        if db.dialect() == "postgres":
            rows = await connection.execute_query_dict(
                "SELECT patchwork_rate_limit_hit_once($1, $2, $3, $4, $5, $6) AS added",
                [key, marker, moment, since, limit, LOCK_SPACE],
            )
            return bool(rows[0]["added"])
        looked = await connection.execute_query_dict(
            "SELECT EXISTS (SELECT 1 FROM rate_limit_hit WHERE key = ? AND at > ?) AS seen, "
            "(SELECT COUNT(*) FROM rate_limit_hit WHERE key = ? AND at > ?) AS used",
            [marker, since, key, since],
        )
        if looked[0]["seen"]:
            return True
        if looked[0]["used"] >= limit:
            return False
        await RateLimitHit.bulk_create(
            [RateLimitHit(key=key, at=moment), RateLimitHit(key=marker, at=moment)]
        )
    return True


#: Count and record in one statement: a hit is added only while the hour has room for it. On
#: PostgreSQL a function (migration 0013) takes the key's advisory lock first, as
#: `count_attempt` does, so simultaneous attempts never all see room for one more.
HIT_SQL = {
    "sqlite": (
        "INSERT INTO rate_limit_hit (key, at) SELECT ?, ? WHERE (SELECT COUNT(*) FROM "
        "rate_limit_hit WHERE key = ? AND at > ?) < ? RETURNING 1 AS added"
    ),
    "postgres": "SELECT patchwork_rate_limit_hit($1, $2, $3, $4, $5) AS added",
}


async def hit(key: str, limit: int) -> bool:
    """Count one attempt for `key`; False when the last hour already had `limit` of them.
    One statement, in a transaction (on SQLite it holds the only connection meanwhile)."""
    moment = now()
    since = moment - WINDOW
    async with in_transaction() as connection:
        if db.dialect() == "sqlite":
            rows = await connection.execute_query_dict(
                HIT_SQL["sqlite"], [key, moment, key, since, limit]
            )
            return bool(rows)
        rows = await connection.execute_query_dict(
            HIT_SQL["postgres"], [key, moment, since, limit, LOCK_SPACE]
        )
        return bool(rows[0]["added"])


async def hit_once(key: str, item: str, limit: int) -> bool:
    """Count `item` against `key` once an hour, however often it is asked for; False when
    the last hour already counted `limit` distinct items."""
    marker = f"{key}:{hashlib.sha256(item.encode()).hexdigest()[:40]}"
    return await count_attempt(key, limit, marker)


async def search(practitioner_id: int, what: str, limit: int) -> bool:
    """Count one way of reaching clients' identities (a client's join page, the duplicates
    offered when adding one) against the practitioner's hourly search limit, once an hour."""
    return await hit_once(f"search:{practitioner_id}", what, limit)


async def query(secret_key: str, practitioner_id: int, what: str, limit: int, proof: str) -> str:
    """Count a client search against the same hourly limit, unless `proof` shows this query
    was counted for this practitioner within the hour (its results' links carry it, so its
    other groups are free). Returns the proof to carry on, or "" when the limit is reached."""
    signer = _counted_signer(secret_key, practitioner_id, what)
    try:
        signer.unsign(proof, max_age=int(WINDOW.total_seconds()))
    except (BadSignature, ValueError, TypeError):
        if not await hit(f"search:{practitioner_id}", limit):
            return ""
        return signer.sign("counted").decode()
    return proof


def counted_proof(secret_key: str, practitioner_id: int, what: str) -> str:
    """The proof that `what` is counted, for a search counted another way (a typing run)."""
    return _counted_signer(secret_key, practitioner_id, what).sign("counted").decode()


def _counted_signer(secret_key: str, practitioner_id: int, what: str) -> TimestampSigner:
    # What was searched is in the salt, hashed: the proof names nothing, it only proves.
    digest = hashlib.sha256(what.encode()).hexdigest()[:40]
    return clock.TimestampSigner(secret_key, salt=f"patchwork-search:{practitioner_id}:{digest}")


async def forget_old() -> int:
    """Delete hits older than the window (the worker calls this now and then)."""
    return await RateLimitHit.filter(at__lt=now() - WINDOW).delete()


#: More failed sign-ins than this for one account in an hour lock it for the rest of the hour.
ACCOUNT_FAILURES_PER_HOUR = 100


def _failures_key(practitioner_id: int) -> str:
    return f"signin:fail:{practitioner_id}"


async def record_failure(practitioner_id: int) -> None:
    await RateLimitHit.create(key=_failures_key(practitioner_id), at=now())


async def account_locked(practitioner_id: int) -> bool:
    """True after ACCOUNT_FAILURES_PER_HOUR failed sign-ins for this account in the last hour."""
    recent = await RateLimitHit.filter(
        key=_failures_key(practitioner_id), at__gt=now() - WINDOW
    ).count()
    return recent >= ACCOUNT_FAILURES_PER_HOUR
