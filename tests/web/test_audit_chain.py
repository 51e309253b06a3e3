"""The audit trail's hash chain (web/core/audit_chain.py): sealed in order, and any altered or
missing event found by `python -m web audit-verify`."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from models.audit import AuditEvent
from tests import support
from tests.web.helpers import sign_in
from web import commands
from web.core import audit, audit_chain, clock


async def some_events(count: int = 5) -> list[AuditEvent]:
    return [
        await audit.record(None, "team.viewed", actor_id=n, client_id=100 + n, area_id=7, n=n)
        for n in range(count)
    ]


async def test_events_are_sealed_in_order_and_verify_intact(db, capsys):
    await some_events(3)
    assert await audit_chain.verify() == audit_chain.Verdict(checked=0, waiting=3)
    assert await audit_chain.seal_all() == 3
    rows = await AuditEvent.all().order_by("id")
    assert [r.chain_seq for r in rows] == [1, 2, 3]
    previous = audit_chain.GENESIS
    for row in rows:  # each hash covers the one before it
        assert row.chain_hash == audit_chain.link(previous, row)
        previous = row.chain_hash
    await some_events(2)  # later events continue the chain
    assert await audit_chain.seal_all() == 2
    assert await audit_chain.seal() == 0
    head = (await AuditEvent.get(chain_seq=5)).chain_hash
    assert await audit_chain.verify() == audit_chain.Verdict(checked=5, waiting=0, head=head)
    assert await commands.print_verdict() == 0
    assert capsys.readouterr().out == (
        f"intact: 5 events.\nThe last is event 5, hash {head}: note it to check the end.\n"
    )


async def test_a_sign_in_and_a_team_view_are_sealed_by_the_worker(client, settings):
    from web.alerts import worker

    priya, aroha, sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    assert (await client.get(f"/clients/{mia.id}")).status_code == 200
    await worker.scheduled(settings)
    assert not await AuditEvent.filter(chain_seq__isnull=True).exists()
    verdict = await audit_chain.verify()
    assert verdict.intact and verdict.checked == await AuditEvent.all().count()


@pytest.mark.parametrize(
    "column, value",
    [
        ("detail", """'{"n": 99}'"""),
        ("actor_id", "42"),
        ("action", "'team.left'"),
        ("client_id", "NULL"),
        ("ip", "'203.0.113.9'"),
    ],
)
async def test_an_altered_event_is_found(db, capsys, column, value):
    events = await some_events()
    await audit_chain.seal_all()
    target = events[2]
    await connections.get("default").execute_script(
        f"UPDATE audit_event SET {column} = {value} WHERE id = {target.id}"
    )
    verdict = await audit_chain.verify()
    assert not verdict.intact and verdict.checked == 2
    assert verdict.problem.startswith(f"event 3 of the chain (id {target.id}, ")
    assert verdict.problem.endswith(") was altered")
    assert await commands.print_verdict() == 1
    assert capsys.readouterr().out.startswith("Damaged: event 3 of the chain")


async def test_a_moved_time_is_found(db):
    events = await some_events()
    await audit_chain.seal_all()
    await AuditEvent.filter(id=events[1].id).update(at=events[1].at - timedelta(hours=1))
    assert (await audit_chain.verify()).problem.startswith("event 2 of the chain")


async def test_a_deleted_event_is_found(db, capsys):
    events = await some_events()
    await audit_chain.seal_all()
    await AuditEvent.filter(id=events[3].id).delete()
    verdict = await audit_chain.verify()
    assert verdict.problem == "event 4 of the chain is missing" and verdict.checked == 3
    assert await commands.print_verdict() == 1
    assert "event 4 of the chain is missing" in capsys.readouterr().out


async def test_a_cut_off_end_shows_only_against_a_noted_head(db):
    """Deleting the newest events leaves a shorter chain that verifies: the head hash that
    audit-verify prints, noted before, is what shows it."""
    events = await some_events(3)
    await audit_chain.seal_all()
    noted = (await audit_chain.verify()).head
    await AuditEvent.filter(id=events[-1].id).delete()
    verdict = await audit_chain.verify()
    assert verdict.intact and verdict.checked == 2 and verdict.head != noted


async def test_a_rewritten_chain_needs_every_hash_after_it(db):
    """An attacker who changes an event and its own hash still breaks the next event."""
    events = await some_events()
    await audit_chain.seal_all()
    forged = await AuditEvent.get(id=events[1].id)
    forged.detail = {"n": 1000}
    previous = (await AuditEvent.get(id=events[0].id)).chain_hash
    assert previous is not None
    await AuditEvent.filter(id=forged.id).update(
        detail=forged.detail, chain_hash=audit_chain.link(previous, forged)
    )
    assert (await audit_chain.verify()).problem.startswith("event 3 of the chain")


async def test_verify_pages_through_a_long_chain(db, monkeypatch):
    monkeypatch.setattr(audit_chain, "BATCH", 3)
    await some_events(8)
    assert await audit_chain.seal_all() == 8
    assert [e.chain_seq for e in await AuditEvent.all().order_by("id")] == list(range(1, 9))
    assert (await audit_chain.verify()).checked == 8
    await AuditEvent.filter(chain_seq=7).delete()
    assert (await audit_chain.verify()).problem == "event 7 of the chain is missing"


async def test_two_workers_sealing_at_once_build_one_chain(db):
    """On PostgreSQL the second waits for the first's advisory lock; on SQLite for the one
    writer's transaction."""
    await some_events(20)
    await asyncio.gather(audit_chain.seal_all(), audit_chain.seal_all())
    verdict = await audit_chain.verify()
    assert verdict.intact and (verdict.checked, verdict.waiting) == (20, 0)


def test_what_the_hash_covers_is_fixed_so_anyone_can_recompute_it():
    event = AuditEvent(
        id=7,
        at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        actor_id=1,
        action="team.viewed",
        client_id=2,
        area_id=3,
        ip="203.0.113.1",
        detail={"b": 1, "a": [2, "x"]},
    )
    assert audit_chain.content(event) == (
        b'{"action":"team.viewed","actor_id":1,"area_id":3,"at":1767323045.0,"client_id":2,'
        b'"detail":{"a":[2,"x"],"b":1},"id":7,"ip":"203.0.113.1"}'
    )
    assert (
        audit_chain.link(audit_chain.GENESIS, event)
        == hashlib.sha256(b"0" * 64 + audit_chain.content(event)).hexdigest()
    )


async def test_a_second_sealer_waits_for_the_first(db, monkeypatch):
    """Each reads where the chain ends only once the other has finished: without the lock
    both would read the same end and give two events one place."""
    await some_events(4)
    reads = 0
    both_read = asyncio.Event()
    original = audit_chain._last_sealed

    async def slowly() -> tuple[int, str]:
        nonlocal reads
        found = await original()
        reads += 1
        if reads == 2:
            both_read.set()
        try:  # the first waits here; the second only gets to read once the first commits
            await asyncio.wait_for(both_read.wait(), timeout=1)
        except TimeoutError:
            pass
        return found

    monkeypatch.setattr(audit_chain, "_last_sealed", slowly)
    sealed = await asyncio.gather(audit_chain.seal(), audit_chain.seal())
    assert sorted(sealed) == [0, 4]
    verdict = await audit_chain.verify()
    assert verdict.intact and verdict.checked == 4


def test_the_hash_covers_the_instant_whatever_the_zone():
    moment = clock.now()
    event = AuditEvent(id=1, at=moment, action="signout", detail={})
    same = AuditEvent(id=1, at=clock.as_local(moment), action="signout", detail={})
    assert audit_chain.content(event) == audit_chain.content(same)
