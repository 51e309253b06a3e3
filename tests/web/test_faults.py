"""Faults survived, each proved against real processes on PostgreSQL (the push timeout
in-process, on either database): a worker killed mid-batch, PostgreSQL gone and back under
load, SMTP down for a while, and a push service that never answers."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import httpx

from models.attentions import Attention
from models.notifications import Outbox, PushSubscription
from tests import support
from tests.processes import (
    DatabaseProxy,
    counting_smtp,
    environ,
    fleet,
    message_ids,
    needs_postgres,
    wait_until,
)
from tests.push_service import Subscriber
from tests.web.helpers import csrf_token, sign_in
from web.alerts import push, worker
from web.core import clock
from web.core.notify import enqueue_email

__all__ = ["fleet"]  # the fixture, imported for the tests here

FRESH = httpx.Limits(keepalive_expiry=2)  # under uvicorn's 5 s keep-alive


async def queue_emails(count: int) -> list[int]:
    return [
        (await enqueue_email(f"p{n}@brimbank.example", f"Alert {n}", "Hi")).id for n in range(count)
    ]


async def all_sent(fleet) -> bool:
    fleet.check_alive()
    return not await Outbox.filter(sent_at__isnull=True).exists()


@needs_postgres
async def test_a_worker_killed_mid_batch_leaves_its_rows_to_the_other_none_twice(fleet, db):
    """Worker A claims all ten rows, sends two, and is SIGKILLed while the SMTP server holds
    the third's DATA unanswered (so nothing of it was accepted: the server then refuses it).
    The two sent stay sent; worker B takes the other eight once A's short lease has run out,
    and every row's Message-ID arrives exactly once. (Killed after the server accepted but
    before the row was marked sent, that one message would go again, with the same
    Message-ID: at-least-once is all a crash allows, and the id lets receivers drop it.)"""
    smtp = counting_smtp()
    smtp.mailbox.hold_at = 3  # type: ignore[attr-defined]
    smtp.start()
    try:
        ids = await queue_emails(10)
        fleet.environ = environ(db, smtp.url, OUTBOX_LEASE_SECONDS="3")
        first = fleet.worker()
        holding = smtp.mailbox.holding  # type: ignore[attr-defined]
        await wait_until(lambda: asyncio.sleep(0, holding.is_set()), 30, "A to hold the third")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        rows = {row.id: row for row in await Outbox.filter(id__in=ids)}
        assert [i for i in ids if rows[i].sent_at] == ids[:2]
        assert all(rows[i].locked_until for i in ids[2:]), "A had claimed the rest"
        smtp.mailbox.release.set()  # type: ignore[attr-defined]
        fleet.worker()
        await wait_until(lambda: all_sent(fleet), 30, "B to deliver the rest", every=0.1)
        received = message_ids(smtp.mailbox)
        assert len(received) == 10 and set(received.values()) == {1}
        attempts = {row.id: row.attempts for row in await Outbox.filter(id__in=ids)}
        assert attempts == {i: 1 if i in ids[:2] else 2 for i in ids}
    finally:
        smtp.stop()


@needs_postgres
async def test_postgres_gone_and_back_gives_503s_then_recovers_losing_nothing(fleet, db, smtp):
    """A web process and a worker reach PostgreSQL through a proxy that drops every connection
    and refuses new ones for three seconds. Meanwhile each request gets the 503 page with
    Retry-After within 5 s (no hang, no 500), /healthz says 503; afterwards the same
    processes serve and deliver again, and every change answered 303 before is kept."""
    proxy = DatabaseProxy()
    await proxy.start()
    name = db.rsplit("/", 1)[1]
    fleet.environ = environ(f"postgres://postgres@127.0.0.1:{proxy.port}/{name}", smtp.url)
    try:
        base_url, web = fleet.web()
        fleet.worker(OUTBOX_FIRST_RETRY_SECONDS="0.2")
        await fleet.ready(base_url)
        priya, _aroha, _sam, mia = await support.thompson_team()
        async with httpx.AsyncClient(base_url=base_url, timeout=5, limits=FRESH) as browser:
            await sign_in(browser, priya)
            token = await csrf_token(browser, "/")
            path = f"/clients/{mia.id}/attentions"

            async def raise_one(n: int) -> httpx.Response:
                data = {"csrf_token": token, "text": f"Talk {n}", "category": ""}
                return await browser.post(path, data=data)

            kept = [n for n in range(3) if (await raise_one(n)).status_code == 303]
            assert kept == [0, 1, 2]
            await proxy.outage()
            during = await asyncio.gather(
                *(raise_one(n) for n in range(3, 7)),
                browser.get("/"),
                browser.get(f"/clients/{mia.id}"),
            )
            health = await browser.get("/healthz")
            assert [r.status_code for r in during] == [503] * 6 and health.status_code == 503
            assert all(r.headers["retry-after"] == "30" for r in during)
            assert "briefly unavailable" in during[0].text
            await asyncio.sleep(3)  # the outage lasts a while: still 503, still quick
            assert (await browser.get("/")).status_code == 503
            await proxy.restore()

            async def healthy() -> bool:
                return (await browser.get("/healthz")).status_code == 200

            await wait_until(healthy, 15, "the web process to reach the database again")
            assert (await raise_one(7)).status_code == 303
            assert web.poll() is None, "the same process, not a restarted one"
        texts = sorted(a.text for a in await Attention.filter(client=mia))
        assert texts == ["Talk 0", "Talk 1", "Talk 2", "Talk 7"]
        await wait_until(lambda: all_sent(fleet), 20, "the worker to deliver again", every=0.1)
        assert max(Counter(message_ids(smtp.mailbox)).values()) == 1
        assert len(smtp.mailbox.messages) == await Outbox.filter(channel="email").count() > 0
    finally:
        await proxy.stop()


@needs_postgres
async def test_smtp_down_for_a_while_loses_nothing_and_sends_each_once(fleet, db):
    """With nothing listening on SMTP_URL's port, the worker records each failure and retries
    with backoff (first retry 0.2 s here, 30 s by default: minutes compressed to seconds);
    once an SMTP server listens there, every message arrives, exactly once."""
    smtp = counting_smtp()  # its port is chosen, nothing listens on it yet
    ids = await queue_emails(5)
    fleet.environ = environ(db, smtp.url, OUTBOX_FIRST_RETRY_SECONDS="0.2")
    fleet.worker()

    async def retried() -> bool:
        fleet.check_alive()
        rows = await Outbox.filter(id__in=ids)
        return all(row.attempts >= 2 and row.last_error and not row.sent_at for row in rows)

    await wait_until(retried, 30, "each message to fail twice", every=0.1)
    assert not await Outbox.filter(failed_at__isnull=False).exists()
    smtp.start()
    try:
        await wait_until(lambda: all_sent(fleet), 30, "the worker to send once SMTP is back")
        received = message_ids(smtp.mailbox)
        assert len(received) == 5 and set(received.values()) == {1}
    finally:
        smtp.stop()


async def test_a_push_service_that_never_answers_is_retried_then_given_up(settings, monkeypatch):
    """Each attempt ends at push.TIMEOUT (made short here) with the timeout recorded, the next
    is due after the worker's backoff, and after MAX_ATTEMPTS the row is failed, its error
    kept, and not tried again. The service saw one connection per attempt."""
    connections: list[int] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await reader.read()  # never answers; returns when the sender gives up
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(push, "TIMEOUT", 0.3)
    priya = await support.practitioner()
    keys = Subscriber(f"http://127.0.0.1:{port}/push/1").to_json()
    subscription = await PushSubscription.create(
        practitioner=priya,
        endpoint=keys["endpoint"],
        **keys["keys"],  # type: ignore[arg-type]
    )
    item = await Outbox.create(
        channel="push", recipient=str(subscription.id), body="{}", next_attempt_at=clock.now()
    )
    ahead = timedelta()
    try:
        for attempt in range(1, worker.MAX_ATTEMPTS + 1):
            with clock.shifted(ahead):
                moment = clock.now()
                assert await worker.deliver_due(settings) == 1
            stored = await Outbox.get(id=item.id)
            assert stored.attempts == attempt and stored.sent_at is None
            assert "timed out" in stored.last_error.lower(), stored.last_error
            if attempt < worker.MAX_ATTEMPTS:
                assert stored.failed_at is None
                wait = stored.next_attempt_at - moment
                assert (
                    worker.backoff(attempt) <= wait < worker.backoff(attempt) + timedelta(seconds=5)
                )
                ahead = stored.next_attempt_at - clock.now() + timedelta(seconds=1)
        assert stored.failed_at is not None
        with clock.shifted(ahead + timedelta(days=2)):
            assert await worker.deliver_due(settings) == 0
        assert len(connections) == worker.MAX_ATTEMPTS
        assert await PushSubscription.exists(id=subscription.id), "a timeout is not 'gone'"
    finally:
        server.close()


async def test_a_batch_that_outlasts_its_lease_releases_the_rest_untried(settings, smtp):
    """Past its lease another worker may hold a row, so a worker stops there: what it has not
    tried goes back unclaimed, its attempt uncounted (here the lease is over at once)."""
    ids = await queue_emails(3)
    assert await worker.deliver_due(replace(settings, outbox_lease_seconds=1e-6)) == 0
    rows = await Outbox.filter(id__in=ids)
    assert [(r.attempts, r.locked_until, r.sent_at) for r in rows] == [(0, None, None)] * 3
    assert not smtp.mailbox.messages
    assert await worker.deliver_due(settings) == 3
    assert len(smtp.mailbox.messages) == 3
