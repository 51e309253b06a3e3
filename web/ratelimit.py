"""Sliding one-hour rate limits kept in the database, so every web process shares them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from models.auth import RateLimitHit
from web.auth import now

WINDOW = timedelta(hours=1)


async def hit(key: str, limit: int) -> bool:
    """Count one attempt for `key`; False when the last hour already had `limit` of them."""
    moment = now()
    recent = await RateLimitHit.filter(key=key, at__gt=moment - WINDOW).count()
    if recent >= limit:
        return False
    await RateLimitHit.create(key=key, at=moment)
    return True


async def hit_once(key: str, item: str, limit: int) -> bool:
    """Count `item` against `key` once an hour, however often it is asked for; False when
    the last hour already counted `limit` distinct items."""
    moment = now()
    marker = f"{key}:{hashlib.sha256(item.encode()).hexdigest()[:40]}"
    if await RateLimitHit.filter(key=marker, at__gt=moment - WINDOW).exists():
        return True
    if await RateLimitHit.filter(key=key, at__gt=moment - WINDOW).count() >= limit:
        return False
    await RateLimitHit.bulk_create(
        [RateLimitHit(key=key, at=moment), RateLimitHit(key=marker, at=moment)]
    )
    return True


async def search(practitioner_id: int, what: str, limit: int) -> bool:
    """Count one way of reaching clients' identities (a query, however many of its groups
    are shown; a client's join page) against the practitioner's hourly search limit."""
    return await hit_once(f"search:{practitioner_id}", what, limit)


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
