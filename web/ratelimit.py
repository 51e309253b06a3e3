"""Sliding one-hour rate limits kept in the database, so every web process shares them."""

from __future__ import annotations

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
