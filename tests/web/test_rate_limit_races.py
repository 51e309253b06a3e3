"""Rate limits under a flood of simultaneous attempts: each admits exactly its limit, on
SQLite and on PostgreSQL, because counting and recording an attempt are one step
(`ratelimit.count_attempt`, which every limit uses)."""

from __future__ import annotations

import asyncio

from models.auth import RateLimitHit
from models.practitioners import PractitionerArea
from tests import support
from tests.web.helpers import sign_in
from tests.web.test_join_limits import distinct_queries
from web.core import ratelimit

TIMES = 150


async def test_simultaneous_hits_admit_exactly_the_limit(db):
    answers = await asyncio.gather(
        *(ratelimit.hit("signin:ip:192.0.2.1", 60) for _ in range(TIMES))
    )
    assert answers.count(True) == 60
    assert await RateLimitHit.filter(key="signin:ip:192.0.2.1").count() == 60


async def test_simultaneous_alerts_about_one_join_coalesce_into_one(db):
    # membership.alert_team coalesces a team's alerts with hit(..., 1).
    answers = await asyncio.gather(*(ratelimit.hit("team-alert:7:9", 1) for _ in range(TIMES)))
    assert answers.count(True) == 1
    assert await RateLimitHit.filter(key="team-alert:7:9").count() == 1


async def test_simultaneous_distinct_items_admit_exactly_the_limit(db):
    answers = await asyncio.gather(
        *(ratelimit.hit_once("search:1", f"query:mia {n}", 60) for n in range(TIMES))
    )
    assert answers.count(True) == 60
    assert await RateLimitHit.filter(key="search:1").count() == 60
    assert await RateLimitHit.filter(key__startswith="search:1:").count() == 60  # markers


async def test_one_item_asked_for_simultaneously_counts_once(db):
    answers = await asyncio.gather(
        *(ratelimit.hit_once("search:1", "query:mia", 60) for _ in range(TIMES))
    )
    assert all(answers)
    assert await RateLimitHit.filter(key="search:1").count() == 1
    assert await RateLimitHit.filter(key__startswith="search:1:").count() == 1


async def test_simultaneous_searches_as_one_practitioner_are_answered_up_to_the_limit(
    client, settings
):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council("LGA21180"))
    await sign_in(client, priya)
    limit = settings.search_rate_per_hour
    answers = await asyncio.gather(
        *(client.get("/clients/search", params={"q": text}) for text in distinct_queries(200))
    )
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == limit
    assert statuses.count(429) == 200 - limit
    assert await RateLimitHit.filter(key=f"search:{priya.id}").count() == limit
