"""Web processes are stateless: two of them and two workers, real subprocesses sharing one
PostgreSQL database, behave as one. 500 team changes made through both web processes
alternately (one browser session each, used on either) queue alerts that are delivered
exactly once each, by email (the SMTP server counts them by Message-ID, one per outbox row)
and by push (the local push service decrypts and counts them per subscription); and the
sign-in and search limits hold across the two processes as they hold within one."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from functools import partial
from itertools import cycle

import httpx

from models.notifications import Outbox, PushSubscription
from models.practitioners import Practitioner
from tests import support
from tests.processes import Fleet, environ, fleet, message_ids, needs_postgres, wait_until
from tests.web.helpers import csrf_token, sign_in
from web.core.references import client_reference

__all__ = ["fleet"]  # the fixture, imported for the tests here

pytestmark = needs_postgres

SIGNIN_LIMIT = 4
SEARCH_LIMIT = 6
LIMITS = {"SIGNIN_RATE_PER_HOUR": str(SIGNIN_LIMIT), "SEARCH_RATE_PER_HOUR": str(SEARCH_LIMIT)}
SECRET = "test-secret-key-that-is-long-enough-for-tests"  # tests.conftest.test_environ's
Request = Callable[[], Awaitable[httpx.Response]]
#: Under uvicorn's 5 s keep-alive, so no request goes out on a connection it is closing.
FRESH = httpx.Limits(keepalive_expiry=2)
CLIENTS = 20
ATTENTIONS_EACH = 5
JOINERS = 30
JOINS_EACH = 5


async def start(fleet: Fleet, db: str, smtp_url: str, workers: int) -> list[str]:
    fleet.environ = environ(db, smtp_url, **LIMITS)
    urls = [fleet.web()[0] for _ in range(2)]
    for _ in range(workers):
        fleet.worker()
    await fleet.ready(*urls)
    return urls


async def bounded(calls: list[Request], at_once: int = 16) -> list[int]:
    """Make the requests `at_once` at a time; their status codes, in order."""
    gate = asyncio.Semaphore(at_once)

    async def one(call: Request) -> int:
        async with gate:
            return (await call()).status_code

    return list(await asyncio.gather(*(one(c) for c in calls)))


async def seed(push_service) -> tuple[list, list[Practitioner], list[Practitioner]]:
    """CLIENTS clients, each with a team of two (each with a push subscription), and JOINERS
    practitioners who want neither email nor push (so each join alerts the team of two)."""
    clients, members, joiners = [], [], []
    for c in range(CLIENTS):
        client = await support.client(f"Client{chr(65 + c)}", "Tester")
        clients.append(client)
        for m in range(2):
            person = await support.practitioner(f"Member {c}-{m}", f"m{c}.{m}@brimbank.example")
            await support.member(client, person)
            keys = push_service.subscriber().to_json()
            await PushSubscription.create(
                practitioner=person, endpoint=keys["endpoint"], **keys["keys"]
            )
            members.append(person)
    for j in range(JOINERS):
        joiners.append(
            await support.practitioner(
                f"Joiner {j}", f"j{j}@brimbank.example", notify_email="off", notify_push="off"
            )
        )
    return clients, members, joiners


async def test_five_hundred_changes_through_two_processes_alert_exactly_once(
    fleet, db, smtp, push_service
):
    """200 attentions, 150 joins and 150 leaves, alternately through each web process, with
    both workers delivering at once: every email and push row is sent, the SMTP server got
    each email row's Message-ID once (and nothing else), and each subscription got exactly as
    many pushes as rows were queued for it (a row is marked sent only after its push was
    accepted, so equal counts mean none twice)."""
    urls = await start(fleet, db, smtp.url, workers=2)
    clients, members, joiners = await seed(push_service)
    browsers = {
        p.id: httpx.AsyncClient(base_url=urls[0], timeout=30, limits=FRESH)
        for p in members + joiners
    }
    tokens: dict[int, str] = {}
    try:
        gate = asyncio.Semaphore(8)

        async def signed_in(person: Practitioner) -> None:  # on one process, used on both
            async with gate:
                await sign_in(browsers[person.id], person)
                tokens[person.id] = await csrf_token(browsers[person.id], f"{urls[1]}/")

        await asyncio.gather(*(signed_in(p) for p in members + joiners))
        where = cycle(urls)

        def post(person: Practitioner, path: str, **form: str) -> Request:
            url, data = f"{next(where)}{path}", {"csrf_token": tokens[person.id], **form}
            return lambda: browsers[person.id].post(url, data=data)

        attentions = [
            post(m, f"/clients/{clients[i // 2].id}/attentions", text=f"Talk {n}", category="")
            for i, m in enumerate(members)
            for n in range(ATTENTIONS_EACH)
        ]
        mine = [(j, clients[(i + k) % CLIENTS]) for i, j in enumerate(joiners) for k in range(5)]
        joins = [
            post(
                j,
                f"/clients/{c.id}/join",
                role="Visitor",
                working_with="yes",
                ref=client_reference(SECRET, j.id, c.id),
            )  # fmt: skip
            for j, c in mine
        ]
        leaves = [post(j, f"/clients/{c.id}/leave", reason="other") for j, c in mine]
        changes = 0
        for phase in (attentions, joins, leaves):
            statuses = await bounded(phase)
            assert set(statuses) == {303}, Counter(statuses)
            changes += len(statuses)
        assert changes == 500
    finally:
        for browser in browsers.values():
            await browser.aclose()

    async def drained() -> bool:
        fleet.check_alive()
        return not await Outbox.filter(sent_at__isnull=True, failed_at__isnull=True).exists()

    await wait_until(drained, 45, "both workers to empty the outbox", every=0.2)
    rows = await Outbox.all()
    assert all(row.sent_at is not None for row in rows), "a row failed"
    emails = [row for row in rows if row.channel == "email"]
    pushes = [row for row in rows if row.channel == "push"]
    assert len(emails) == len(pushes) == 200 + 150 * 2  # each change told the other member(s)
    ids = message_ids(smtp.mailbox)
    assert sorted(ids.values()) == [1] * len(emails), "an email was delivered twice"
    assert all(any(f"outbox.{row.id}." in i for i in ids) for row in emails)
    subscriptions = {s.id: s.endpoint.rsplit("/", 1)[1] for s in await PushSubscription.all()}
    queued = Counter(subscriptions[int(row.recipient)] for row in pushes)
    received = Counter(r.subscriber for r in push_service.received)
    assert received == queued


async def test_sign_in_and_search_limits_hold_across_two_processes(fleet, db, smtp):
    """Thirty sign-in link requests for one address and thirty distinct searches by one
    practitioner, all at once and split between the two processes: exactly SIGNIN_LIMIT
    links are queued and exactly SEARCH_LIMIT searches answered (the rest refused, 429),
    because the limits live in the shared database, not in a process."""
    urls = await start(fleet, db, smtp.url, workers=0)
    priya, _aroha, _sam, _mia = await support.thompson_team()
    async with httpx.AsyncClient(base_url=urls[0], timeout=30, limits=FRESH) as browser:
        token = await csrf_token(browser, "/signin")
        asked = await bounded(
            [
                partial(
                    browser.post,
                    f"{urls[n % 2]}/signin",
                    data={"email": priya.email, "csrf_token": token, "method": "email"},
                )  # fmt: skip
                for n in range(30)
            ]
        )
        assert set(asked) == {200}, Counter(asked)
        links = await Outbox.filter(recipient=priya.email, subject__icontains="sign-in").count()
        assert links == SIGNIN_LIMIT
        await sign_in(browser, priya)
        searched = await bounded(
            [
                partial(
                    browser.get,
                    f"{urls[n % 2]}/clients/search",
                    params={"q": f"M{chr(97 + n % 26)}{chr(97 + n // 26)} Thompson"},
                )
                for n in range(30)
            ]
        )
    assert Counter(searched) == {200: SEARCH_LIMIT, 429: 30 - SEARCH_LIMIT}
