"""Rules the database itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError

from models.circles import CircleLink, ordered_pair
from models.teams import Membership
from tests import support
from web.core import clock


async def test_one_current_membership_per_client_and_practitioner(db):
    priya = await support.practitioner()
    mia = await support.client()
    first = await support.member(mia, priya)
    with pytest.raises(IntegrityError):
        await support.member(mia, priya)
    assert await Membership.filter(client=mia, practitioner=priya).count() == 1
    first.ended_at = clock.now()
    await first.save()
    again = await support.member(mia, priya)  # rejoining after leaving is fine: history is kept
    leo = await support.client("Leo")
    await support.member(leo, priya)  # and another client's team at the same time
    rows = await Membership.filter(practitioner=priya).order_by("id")
    assert [(m.client_id, m.ended_at is None) for m in rows] == [
        (mia.id, False),
        (mia.id, True),
        (leo.id, True),
    ]
    assert rows[1].id == again.id
    with pytest.raises(IntegrityError):  # the rejoined membership is the one current one
        await support.member(mia, priya)


async def test_a_circle_link_is_stored_once_per_pair(db):
    mia, leo = await support.client("Mia"), await support.client("Leo")
    a, b, relationship = ordered_pair(leo.id, mia.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    with pytest.raises(IntegrityError):
        await CircleLink.create(client_a_id=a, client_b_id=b, relationship="other")
    with pytest.raises(IntegrityError):  # the reversed pair cannot sneak in
        await CircleLink.create(client_a_id=b, client_b_id=a, relationship="sibling")
    with pytest.raises(IntegrityError):  # nor a link to oneself
        await CircleLink.create(client_a_id=a, client_b_id=a, relationship="other")


def test_ordering_a_pair_turns_the_relationship_round():
    assert ordered_pair(5, 9, "parent") == (5, 9, "parent")  # 9 is 5's parent
    assert ordered_pair(9, 5, "parent") == (5, 9, "child")  # 9 is 5's child
    assert ordered_pair(9, 5, "sibling") == (5, 9, "sibling")


async def test_migrations_are_idempotent(database_url):
    from tortoise import connections

    from web.core import db

    async def applied() -> list[tuple[str, str]]:
        rows = await connections.get("default").execute_query_dict(
            'SELECT "app", "name" FROM "tortoise_migrations" ORDER BY "id"'
        )
        return [(row["app"], row["name"]) for row in rows]

    before = await applied()
    assert before and before[0] == ("models", "0001_initial")
    try:
        await db.migrate(database_url)  # already applied by the session fixture: nothing to do
    finally:
        await db.open_database(database_url)  # migrate closes every connection when it is done
    assert await applied() == before
    assert await Membership.all().count() == 0  # the schema is still there and usable
