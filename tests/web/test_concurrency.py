"""Simultaneous joins or leaves by one practitioner (a double tap, two tabs, a retry) never
fail and leave exactly one membership, on SQLite and on PostgreSQL (where they truly race:
the partial unique index refuses the second current membership)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.requests import Request

from models.audit import AuditEvent
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.membership import join, leave

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
