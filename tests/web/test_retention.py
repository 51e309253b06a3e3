"""Retention that really deletes (web/core/retention.py): a client whose team has been empty
for RETENTION_MONTHS goes, with everything about them; the audit trail keeps only ids.

Time is moved with `clock.shifted`, never faked in the rows: the team empties through the
leave form, and the months pass on the app's clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.attentions import Attention, AttentionSeen
from models.audit import AuditEvent
from models.circles import CircleLink
from models.clients import Client
from models.invitations import Invitation
from models.notifications import Notification
from models.search import ClientNameWord
from models.teams import JoinCode, Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web import commands
from web.core import clock, retention
from web.core.retention import Removed, months_before


async def leave(client, practitioner, team) -> None:
    await sign_in(client, practitioner)
    url = f"/clients/{team.id}/leave"
    left = await client.post(
        url, data={"reason": "case_closed", "csrf_token": await csrf_token(client, url)}
    )
    assert left.status_code == 303


async def leos_empty_team(client):
    """Leo's team (Tom and Priya) empties; Leo has an attention someone saw, a circle link to
    Mia, a join code, a notification and a pending invitation to his team."""
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    raised = await Attention.create(client=leo, raised_by=tom, text="Please call me")
    await AttentionSeen.create(attention=raised, practitioner=priya, seen_at=clock.now())
    await CircleLink.create(client_a_id=mia.id, client_b_id=leo.id, relationship="sibling")
    await JoinCode.create(
        token_hash="x" * 64,
        client=leo,
        created_by=tom,
        created_at=clock.now(),
        expires_at=clock.now() + timedelta(minutes=10),
    )
    invitation = await Invitation.create(
        email="new.person@brimbank.example",
        token_hash="y" * 64,
        invited_by=tom,
        client=leo,
        expires_at=clock.now() + timedelta(days=14),
    )
    for practitioner in (tom, priya):
        await leave(client, practitioner, leo)
    assert (await Client.get(id=leo.id)).team_empty_since is not None
    assert await Notification.filter(client_id=leo.id).exists()  # Priya was told Tom left
    return mia, leo, invitation


def later(months: int, days: int = 0):
    """The app's clock, `months` calendar months (and `days`) from now."""
    moment = clock.now()
    return clock.shifted(months_before(moment, -months) - moment + timedelta(days=days))


def test_months_are_calendar_months():
    at = datetime(2026, 3, 31, 9, 30, tzinfo=UTC)
    assert months_before(at, 1) == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert months_before(at, 24) == datetime(2024, 3, 31, 9, 30, tzinfo=UTC)
    assert months_before(at, 13) == datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
    assert months_before(datetime(2024, 3, 29, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert months_before(at, -10) == datetime(2027, 1, 31, 9, 30, tzinfo=UTC)


async def test_a_client_whose_team_is_empty_past_retention_is_removed_with_everything(
    client, settings
):
    mia, leo, invitation = await leos_empty_team(client)
    mia_postings = await ClientNameWord.filter(client_id=mia.id).count()
    with later(settings.retention_months, days=-1):  # a day short: kept
        assert await retention.apply(settings) == Removed()
    assert await Client.filter(id=leo.id).exists()
    with later(settings.retention_months, days=1):
        removed = await retention.apply(settings)
    assert removed == Removed(
        clients=1,
        memberships=2,
        attentions=1,
        circle_links=1,
        join_codes=1,
        search_postings=removed.search_postings,
        notifications=removed.notifications,
        invitations_unlinked=1,
    )
    assert removed.search_postings >= 2 and removed.notifications >= 1
    assert not await Client.filter(id=leo.id).exists()
    for model in (Membership, Attention, JoinCode, ClientNameWord, Notification):
        assert not await model.filter(client_id=leo.id).exists(), model
    assert not await AttentionSeen.all().exists()
    assert not await CircleLink.all().exists()
    assert (await Invitation.get(id=invitation.id)).client_id is None  # type: ignore[attr-defined]
    # Mia and her team are untouched.
    assert await Membership.filter(client_id=mia.id, ended_at__isnull=True).count() == 3
    assert await ClientNameWord.filter(client_id=mia.id).count() == mia_postings
    # The audit trail keeps the id, and nothing else about Leo, at the time of removal.
    [event] = await AuditEvent.filter(action="client.removed")
    assert event.client_id == leo.id and event.detail in ({}, None)  # type: ignore[attr-defined]
    assert event.area_id == leo.area_id  # type: ignore[attr-defined]  # for its administrators
    with later(settings.retention_months, days=1):
        assert abs(event.at - clock.now()) < timedelta(minutes=1)


async def test_a_team_that_is_not_empty_is_never_removed(client, settings):
    mia, leo, _ = await leos_empty_team(client)
    # Someone joins Leo's team again, much later: his team is not empty any more.
    tom = await support.practitioner("Tina Ray", "tina.ray@brimbank.example")
    with later(settings.retention_months, days=1):
        await support.member(leo, tom)
        assert await retention.expired_ids(settings) == []
        assert await retention.apply(settings) == Removed()
    assert await Client.filter(id=leo.id).exists()


async def test_a_dry_run_counts_and_deletes_nothing(client, settings, capsys):
    mia, leo, _ = await leos_empty_team(client)
    before = await support.snapshot()
    with later(settings.retention_months, days=1):
        counted = await retention.apply(settings, dry_run=True)
        await commands.print_retention(settings, dry_run=True)
    assert counted.clients == 1 and counted.memberships == 2
    assert support.changed(before, await support.snapshot(), ledgers=()) == []
    printed = capsys.readouterr().out
    assert "Dry run: nothing was deleted." in printed
    assert "clients: 1" in printed and "memberships: 2" in printed


async def test_the_worker_runs_retention_once_a_day_and_records_what_it_removed(client, settings):
    mia, leo, _ = await leos_empty_team(client)
    with later(settings.retention_months, days=1):
        await retention.daily(settings)
        await retention.daily(settings)  # the same day: nothing more
        runs = await AuditEvent.filter(action="job.retention")
        assert [r.detail["clients"] for r in runs] == [1]
        assert runs[0].detail["memberships"] == 2
    assert not await Client.filter(id=leo.id).exists()
    with later(settings.retention_months, days=2):
        await retention.daily(settings)  # the next day it runs again, finding nothing
    runs = await AuditEvent.filter(action="job.retention").order_by("id")
    assert [r.detail["clients"] for r in runs] == [1, 0]


async def test_many_clients_are_removed_in_batches_and_counted_once(client, settings, monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 2)
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    gone = [await support.client(given) for given in ("Ada", "Ben", "Cy")]
    for each in gone:
        await support.member(each, tom)
        await leave(client, tom, each)
    with later(settings.retention_months, days=1):
        removed = await retention.apply(settings)
    assert (removed.clients, removed.memberships) == (3, 3)
    assert not await Client.filter(id__in=[c.id for c in gone]).exists()
    assert await AuditEvent.filter(action="client.removed").count() == 3


async def test_two_workers_at_once_run_the_days_retention_once(db, settings, monkeypatch):
    """The second worker reads when retention last ran only after the first has recorded it
    (an advisory lock on PostgreSQL, the one writer on SQLite)."""
    asked = 0
    both_asked = asyncio.Event()
    original = retention.due

    def counted(last_run):
        nonlocal asked
        asked += 1
        if asked == 2:
            both_asked.set()
        return original(last_run)

    async def slow_apply(settings, *, dry_run=False):
        try:  # the first run waits here for the second to ask too, which the lock prevents
            await asyncio.wait_for(both_asked.wait(), timeout=1)
        except TimeoutError:
            pass
        return Removed()

    monkeypatch.setattr(retention, "due", counted)
    monkeypatch.setattr(retention, "apply", slow_apply)
    await asyncio.gather(retention.daily(settings), retention.daily(settings))
    assert await AuditEvent.filter(action="job.retention").count() == 1
