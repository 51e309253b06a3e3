"""Rate limits (web/core/ratelimit.py), rule by rule: what counts, for whom, and for how long.

Written to kill the mutants `python -m tests --mutate web/core/ratelimit.py` found surviving."""

from __future__ import annotations

from datetime import timedelta

from models.auth import RateLimitHit
from web.core import clock, ratelimit


async def lock(practitioner_id: int) -> None:
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR):
        await ratelimit.record_failure(practitioner_id)


async def test_failed_sign_ins_lock_only_the_account_they_name(db):
    await lock(1)
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR):
        assert await ratelimit.hit("signin:ip:203.0.113.7", 1000)
    assert await ratelimit.account_locked(1)
    assert not await ratelimit.account_locked(2)  # other accounts' failures, other limits
    await ratelimit.record_failure(2)
    assert not await ratelimit.account_locked(2)


async def test_an_account_lock_lifts_an_hour_after_the_failures(db):
    await lock(1)
    with clock.shifted(timedelta(minutes=59)):
        assert await ratelimit.account_locked(1)
    with clock.shifted(timedelta(minutes=61)):
        assert not await ratelimit.account_locked(1)


async def test_one_failure_short_of_the_limit_does_not_lock(db):
    for _ in range(ratelimit.ACCOUNT_FAILURES_PER_HOUR - 1):
        await ratelimit.record_failure(1)
    assert not await ratelimit.account_locked(1)
    await ratelimit.record_failure(1)
    assert await ratelimit.account_locked(1)


async def test_an_item_counted_over_an_hour_ago_counts_again(db):
    assert await ratelimit.hit_once("search:1", "query:mia", 1)
    assert await ratelimit.hit_once("search:1", "query:mia", 1)  # the same item: once
    assert not await ratelimit.hit_once("search:1", "query:leo", 1)
    with clock.shifted(timedelta(minutes=61)):
        assert await ratelimit.hit_once("search:1", "query:leo", 1)
        # "mia" was counted in an hour that has passed: asking again is a new search.
        assert not await ratelimit.hit_once("search:1", "query:mia", 1)


async def test_forgetting_deletes_only_hits_older_than_the_window(db):
    moment = clock.now()
    await RateLimitHit.create(key="search:1", at=moment - timedelta(minutes=61))
    await RateLimitHit.create(key="search:1", at=moment - timedelta(minutes=59))
    await RateLimitHit.create(key="search:1", at=moment)
    assert await ratelimit.forget_old() == 1
    kept = sorted(h.at for h in await RateLimitHit.all())
    assert kept == [moment - timedelta(minutes=59), moment]
