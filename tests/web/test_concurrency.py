"""Simultaneous joins or leaves by one practitioner (a double tap, two tabs, a retry) never
fail and leave exactly one membership, on SQLite and on PostgreSQL (where they truly race:
the partial unique index refuses the second current membership). The same holds wherever a
unique constraint meets a double submit: the first view of an attention, a browser's push
subscription, and opening an invitation link."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.requests import Request

from models.attentions import Attention, AttentionSeen
from models.audit import AuditEvent
from models.auth import Session
from models.notifications import PushSubscription
from models.practitioners import Practitioner
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core.invitations import send_invitation
from web.core.membership import join, leave

TIMES = 20


def request_as(app: object, practitioner: object) -> Request:
    """A request signed in as `practitioner`, as the routes pass to join and leave."""
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [],
            "app": app,
            "client": ("203.0.113.7", 50000),
            "state": {"practitioner": practitioner},
        }
    )


async def test_twenty_simultaneous_joins_make_one_membership(settings):
    _priya, _aroha, _sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walker", "tom.walker@brimbank.example")
    request = request_as(create_app(settings), tom)
    joined = await asyncio.gather(
        *(join(request, tom, mia, "Youth Worker") for _ in range(TIMES)), return_exceptions=True
    )
    assert not [j for j in joined if isinstance(j, BaseException)], joined
    current = await Membership.filter(client=mia, practitioner=tom, ended_at__isnull=True)
    assert len(current) == 1
    assert {j.id for j in joined if isinstance(j, Membership)} == {current[0].id}
    assert await Membership.filter(client=mia, practitioner=tom).count() == 1
    assert await AuditEvent.filter(action="team.joined", actor_id=tom.id).count() == 1


async def test_twenty_simultaneous_leaves_end_the_membership_once(settings):
    priya, _aroha, _sam, mia = await support.thompson_team()
    request = request_as(create_app(settings), priya)
    left = await asyncio.gather(
        *(leave(request, priya, mia, "other") for _ in range(TIMES)), return_exceptions=True
    )
    assert not [m for m in left if isinstance(m, BaseException)], left
    memberships = await Membership.filter(client=mia, practitioner=priya)
    assert len(memberships) == 1 and memberships[0].ended_at is not None
    assert await AuditEvent.filter(action="team.left", actor_id=priya.id).count() == 1


async def test_twenty_simultaneous_leave_forms_never_fail(client: httpx.AsyncClient):
    priya, _aroha, _sam, mia = await support.thompson_team()
    await sign_in(client, priya)
    token = await csrf_token(client, "/")
    answers = await asyncio.gather(
        *(
            client.post(
                f"/clients/{mia.id}/leave", data={"csrf_token": token, "reason": "case_closed"}
            )
            for _ in range(TIMES)
        )
    )
    # The first leaves (303); the rest find no membership to end (403, members only).
    assert {a.status_code for a in answers} <= {303, 403}
    assert sum(a.status_code == 303 for a in answers) >= 1
    assert not await Membership.filter(client=mia, practitioner=priya, ended_at__isnull=True)
    assert await AuditEvent.filter(action="team.left", actor_id=priya.id).count() == 1


def failures(answers: list[Any]) -> list[Any]:
    """What the app raised (a 500) or answered with a server error."""
    return [a for a in answers if isinstance(a, BaseException) or a.status_code >= 500]


async def test_twenty_simultaneous_first_views_of_an_attention_never_fail(client):
    """Opening the Attentions tab records what was seen: once, however many tabs open it."""
    priya, aroha, _sam, mia = await support.thompson_team()
    attention = await Attention.create(client=mia, raised_by=aroha, text="Please call me")
    await sign_in(client, priya)
    answers = await asyncio.gather(
        *(client.get(f"/clients/{mia.id}/attentions") for _ in range(TIMES)),
        return_exceptions=True,
    )
    assert not failures(answers), failures(answers)[:1]
    assert {a.status_code for a in answers} == {200}
    assert await AttentionSeen.filter(attention=attention, practitioner=priya).count() == 1


async def test_twenty_simultaneous_subscriptions_of_one_browser_keep_one(client):
    """A browser sends its push subscription twice (a retry, two tabs): one row, no error."""
    priya = await support.practitioner()
    await sign_in(client, priya)
    headers = {"X-CSRF-Token": await csrf_token(client, "/profile")}
    body = {"endpoint": "http://127.0.0.1:9/push/one", "keys": {"p256dh": "BAAA", "auth": "AAAA"}}
    answers = await asyncio.gather(
        *(client.post("/push/subscriptions", json=body, headers=headers) for _ in range(TIMES)),
        return_exceptions=True,
    )
    assert not failures(answers), failures(answers)[:1]
    assert {a.status_code for a in answers} == {201}
    [kept] = await PushSubscription.filter(endpoint=body["endpoint"])
    assert kept.practitioner_id == priya.id


async def test_ten_simultaneous_openings_of_one_invitation_make_one_practitioner(client, settings):
    """An invitation is used once: the others are told it was used (410), and nothing
    half-made (a practitioner, a session) is left by the losers."""
    priya = await support.practitioner()
    invitation, link = await send_invitation(settings, "nina.new@brimbank.example", priya)
    path = link.removeprefix(settings.base_url)
    token = await csrf_token(client, path)
    answers = await asyncio.gather(
        *(client.post(path, data={"csrf_token": token}) for _ in range(10)),
        return_exceptions=True,
    )
    assert not failures(answers), failures(answers)[:1]
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [303] + [410] * 9, statuses
    assert all("can no longer be used" in a.text for a in answers if a.status_code == 410)
    [nina] = await Practitioner.filter(email="nina.new@brimbank.example")
    await invitation.refresh_from_db()
    assert invitation.accepted_by_id == nina.id
    assert await Session.filter(practitioner=nina).count() == 1
    assert await AuditEvent.filter(action="signup.started").count() == 1
