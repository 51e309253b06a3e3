"""Who sees what, as a property over every route.

Hypothesis draws a practitioner (a current member, a discreet member, a former member, a
colleague on no team, an unfinished signup, a deactivated account, an administrator of
another area, or nobody), a client, and any route of `app.routes` with any of its methods,
as a page or an htmx fragment. Whatever is drawn, the answer is never a server error, and:

- a client's name, and who is on their team, reach only that team's current members (a
  search result may show a name, never the team);
- the discreet member's involvement reaches nobody but themself: no page anyone else gets
  names them together with the client, and no client page names them at all;
- anyone who is not a current member changes nothing by posting to a client's routes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from html import unescape

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from starlette.routing import Route

from models.areas import Area
from models.attentions import Attention
from models.circles import CircleLink, ordered_pair
from models.invitations import Invitation
from models.notifications import Notification, Outbox
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core import clock
from web.core.auth import deactivate
from web.core.settings import Settings

VIEWERS = (
    "member",
    "discreet",
    "former",
    "stranger",
    "unfinished",
    "deactivated",
    "admin elsewhere",
    "anonymous",
)
#: Names that identify Mia's client record and her team.
MIA = ("Mirabel", "Quoddy")
SAM = ("Sam Lee", "sam.lee@", "Westside Recovery")
FORM = {
    "text": "Please call",
    "reason": "case_closed",
    "role": "Nurse",
    "working_with": "yes",
    "email": "someone.new@elsewhere.example",
    "relationship": "sibling",
    "discreet": "no",
    "confirmed": "yes",
    "date": "2030-01-01",
    "time": "10:00",
    "minutes": "60",
    "place": "Online",
    "agenda": "",
}


@dataclass
class World:
    app: object
    sessions: dict[str, httpx.AsyncClient]
    tokens: dict[str, str]
    params: dict[str, list[str]]
    clients: dict[str, int]
    team: dict[int, tuple[str, ...]]  # client id → names of its current visible members
    routes: list[tuple[str, str]] = field(default_factory=list)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    mia.given_name, mia.family_name = MIA
    await mia.save()
    fay = await support.practitioner("Fay Ormond", "fay.ormond@brimbank.example")
    await support.member(
        mia, fay, ended_at=clock.now() - timedelta(days=5), end_reason="transferred"
    )
    nora = await support.practitioner("Nora Quinn", "nora.quinn@brimbank.example")
    uma = await support.practitioner("", "uma.unfinished@brimbank.example", signup_step=0)
    dee = await support.practitioner("Dee Active", "dee.active@brimbank.example")
    elsewhere = await Area.filter(kind="district").exclude(id=mia.area.parent_id).first()  # type: ignore[attr-defined]
    ada = await support.practitioner(
        "Ada Admin", "ada.admin@brimbank.example", role="local_admin", admin_areas=[elsewhere]
    )
    attention = await Attention.create(client_id=mia.id, raised_by=sam, text="x", named=False)
    a, b, relationship = ordered_pair(mia.id, leo.id, "sibling")
    link = await CircleLink.create(
        client_a_id=a, client_b_id=b, relationship=relationship, created_by=priya
    )
    app = create_app(settings)
    sessions: dict[str, httpx.AsyncClient] = {}
    tokens: dict[str, str] = {}
    people = {
        "member": priya,
        "discreet": sam,
        "former": fay,
        "stranger": nora,
        "unfinished": uma,
        "deactivated": dee,
        "admin elsewhere": ada,
        "anonymous": None,
    }
    for name, person in people.items():
        session = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 50000)),
            base_url="http://testserver",
            headers={"accept": "text/html"},
        )
        if person is not None:
            await sign_in(session, person)
        tokens[name] = await csrf_token(session, "/signin")
        sessions[name] = session
    await deactivate(dee)
    routes = [
        (method, route.path)
        for route in app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route)
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    yield World(
        app=app,
        sessions=sessions,
        tokens=tokens,
        params={
            "attention_id": [str(attention.id)],
            "link_id": [str(link.id)],
            "practitioner_id": [str(sam.id), str(priya.id)],
            "organisation_id": [str(sam.organisation_id), str(priya.organisation_id)],  # type: ignore[attr-defined]
            "invitation_id": ["1"],
            "session_id": ["1"],
            "passkey_id": ["1"],
            "key": ["team"],
            "step": ["1", "2", "7"],
            "token": ["not-a-token"],
        },
        clients={"Mia": mia.id, "Leo": leo.id},
        team={mia.id: ("Priya Nair", "Aroha Ngata"), leo.id: ("Tom Walker", "Priya Nair")},
        routes=routes,
    )
    for session in sessions.values():
        await session.aclose()
    assert aroha and tom


async def stored() -> tuple[int, ...]:
    """What a refused post must leave as it was (audit rows and rate-limit hits may grow)."""
    return (
        await Membership.all().count(),
        await Membership.filter(ended_at__isnull=True).count(),
        await Membership.filter(discreet=True).count(),
        await Attention.all().count(),
        await Attention.filter(resolved_at__isnull=True).count(),
        await CircleLink.all().count(),
        await Notification.all().count(),
        await Outbox.all().count(),
        await Invitation.all().count(),
    )


def fill(path: str, world: World, client_id: int, choice: int) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "client_id":
            return str(client_id)
        options = world.params.get(name, ["1"])
        return options[choice % len(options)]

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


MEMBERS = {"member", "discreet"}


@hypothesis_settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    viewer=st.sampled_from(VIEWERS),
    which=st.sampled_from(["Mia", "Leo"]),
    route=st.integers(min_value=0, max_value=10_000),
    choice=st.integers(min_value=0, max_value=5),
    htmx=st.booleans(),
)
async def test_every_route_shows_each_practitioner_only_what_they_may_see(
    world, viewer, which, route, choice, htmx
):
    method, path = world.routes[route % len(world.routes)]
    client_id = world.clients[which]
    on_team = viewer in MEMBERS and which == "Mia" or viewer == "member" and which == "Leo"
    if method != "GET" and (on_team or "{client_id" not in path):
        return  # members' own changes and non-client forms are other tests' business
    url = fill(path, world, client_id, choice)
    if path == "/clients/search":
        url += "?q=Mirabel+Quoddy"
    headers = {"HX-Request": "true"} if htmx else {}
    session = world.sessions[viewer]
    before = await stored()
    if method == "GET":
        response = await session.get(url, headers=headers)
    else:
        data = {**FORM, "other": str(world.clients["Leo"]), "csrf_token": world.tokens[viewer]}
        headers["X-CSRF-Token"] = world.tokens[viewer]
        response = await session.request(method, url, data=data, headers=headers)
    assert response.status_code < 500, (viewer, method, url, response.text[:500])
    text = unescape(response.text)
    if method != "GET":
        assert response.status_code in (303, 401, 403, 404, 410, 422, 429), (viewer, method, url)
        assert await stored() == before, (viewer, method, url, "changed something")
    names_client = MIA[1] in text if which == "Mia" else False
    if names_client and path != "/clients/search":
        assert viewer in MEMBERS or viewer == "member", (viewer, method, url, "named the client")
    if not on_team and "{client_id" in path:
        for name in world.team[client_id]:
            assert name not in text, (viewer, method, url, f"showed team member {name}")
    if viewer != "discreet":
        if "{client_id" in path:
            assert not any(trace in text for trace in SAM), (viewer, method, url, "named Sam")
        assert not (MIA[1] in text and any(t in text for t in SAM)), (viewer, url, "linked Sam")


def test_the_routes_drawn_are_all_of_them(settings):
    """The property draws from app.routes itself, so a new route is covered on arrival."""
    app = create_app(settings)
    paths = {route.path for route in app.routes if isinstance(route, Route)}
    assert "/clients/{client_id:int}" in paths and "/clients/{client_id:int}/join" in paths
    assert len(paths) > 40
