"""Rules the database itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.exceptions import IntegrityError

from models.circles import CircleLink, ordered_pair
from tests import support


async def test_one_current_membership_per_client_and_practitioner(db):
    priya = await support.practitioner()
    mia = await support.client()
    first = await support.member(mia, priya)
    with pytest.raises(IntegrityError):
        await support.member(mia, priya)
    first.ended_at = datetime.now(UTC)
    await first.save()
    await support.member(mia, priya)  # rejoining after leaving is fine: history is kept
    await support.member(await support.client("Leo"), priya)


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
    from web import db

    try:
        await db.migrate(database_url)  # already applied by the session fixture: nothing to do
    finally:
        await db.open_database(database_url)  # migrate closes every connection when it is done
