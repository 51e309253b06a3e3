"""No register to read: a non-member learns a client's name, age and area only from a search
result, circle card, join code or invitation they were shown, through a short-lived reference
bound to them and that client. Join codes are opaque server-side references."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from html import unescape

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from models.audit import AuditEvent
from models.circles import CircleLink, ordered_pair
from models.clients import Client
from models.notifications import Outbox
from models.teams import JoinCode, Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in, without_csrf
from web.app import create_app
from web.commands import RedactAccessLog
from web.core import clock, references
from web.core.render import age_label
from web.core.settings import Settings

NOWHERE = 987654  # an id no client has


async def identities() -> list[str]:
    """Everything that would identify any client: names, age and area as cards show them."""
    found: list[str] = []
    for c in await Client.all().select_related("area"):
        found += [c.given_name, c.family_name, c.full_name, c.area.name]
        found.append(age_label(c.birth_date, c.birth_year, clock.today()))
    return found


def reveals(html: str, secrets: list[str]) -> list[str]:
    text = unescape(html)
    return [s for s in secrets if s in text]


def join_link(html: str, client_id: int) -> str:
    found = re.search(rf'href="(/clients/{client_id}/join\?ref=[^"]+)"', html)
    assert found, f"no join link for client {client_id}"
    return unescape(found.group(1))


def reference(settings: Settings, who: int, client_id: int) -> str:
    return references.client_reference(settings.secret_key, who, client_id)


def expired_reference(settings: Settings, who: int, client_id: int) -> str:
    with clock.shifted(-timedelta(hours=references.REFERENCE_HOURS, minutes=1)):
        return reference(settings, who, client_id)


async def refused(action: str = "team.join_refused") -> int:
    return await AuditEvent.filter(action=action).count()


# -- walking ids ----------------------------------------------------------------------------


async def test_walking_client_ids_reads_nobody_and_joins_nothing(client, settings):
    priya, _aroha, _sam, tom, mia, leo = await support.thompson_siblings()
    await support.client("Ava", "Walker", area=await support.council("LGA22750"))
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    secrets = await identities()
    ids = [c.id for c in await Client.all()] + [NOWHERE, NOWHERE + 1]
    memberships = await Membership.all().count()
    await sign_in(client, nina)
    token = await csrf_token(client, "/profile")
    first = await client.get(f"/clients/{NOWHERE}/join")
    assert first.status_code == 404 and "search" in first.text.lower()
    canonical = without_csrf(first.text)
    attempts = 1
    for client_id in sorted(set(range(1, max(ids[:-2]) + 3)) | set(ids)):
        refs = [
            "",
            "garbage",
            reference(settings, priya.id, client_id),  # someone else's
            reference(settings, nina.id, client_id + 1),  # another client's
            reference(settings, nina.id, client_id).replace(".", "-", 1),  # tampered
            expired_reference(settings, nina.id, client_id),
        ]
        for ref in refs:
            page = await client.get(
                f"/clients/{client_id}/join", params={"ref": ref} if ref else {}
            )
            fragment = await client.get(
                f"/clients/{client_id}/join", params={"ref": ref}, headers={"HX-Request": "true"}
            )
            posted = await client.post(
                f"/clients/{client_id}/join",
                data={"role": "Nurse", "working_with": "yes", "ref": ref, "csrf_token": token},
            )
            attempts += 3
            for response in (page, posted):
                assert response.status_code == 404, (client_id, ref, response.status_code)
                assert without_csrf(response.text) == canonical, (client_id, ref)
                assert reveals(response.text, secrets) == []
            assert fragment.status_code == 404 and "<html" not in fragment.text
            assert reveals(fragment.text, secrets) == []
    assert await refused() == attempts
    assert await Membership.all().count() == memberships
    assert not await Membership.exists(practitioner=nina)
    events = await AuditEvent.filter(action="team.join_refused", actor_id=nina.id)
    assert {e.client_id for e in events} >= {mia.id, leo.id, NOWHERE}
    assert not await Membership.exists(practitioner=tom, client=mia)


async def test_search_then_join_works_end_to_end(client, settings):
    _priya, _aroha, _sam, _tom, mia, _leo = await support.thompson_siblings()
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    await sign_in(client, nina)
    results = await client.get("/clients/search", params={"q": "mia thompson"})
    link = join_link(results.text, mia.id)
    page = await client.get(link)
    assert page.status_code == 200 and "Join the team for Mia Thompson" in page.text
    ref = re.search(r'name="ref" value="([^"]+)"', page.text).group(1)
    assert references.reference_is_valid(settings.secret_key, unescape(ref), nina.id, mia.id)
    assert await AuditEvent.filter(action="team.join_opened", client_id=mia.id).count() == 1

    token = await csrf_token(client, link)
    unticked = await client.post(
        f"/clients/{mia.id}/join", data={"role": "Nurse", "ref": unescape(ref), "csrf_token": token}
    )
    assert unticked.status_code == 422 and "Mia Thompson" in unticked.text
    joined = await client.post(
        f"/clients/{mia.id}/join",
        data={"role": "Nurse", "working_with": "yes", "ref": unescape(ref), "csrf_token": token},
    )
    assert joined.status_code == 303 and joined.headers["location"] == f"/clients/{mia.id}"
    assert await Membership.exists(practitioner=nina, client=mia, ended_at=None)
    assert (await client.get(f"/clients/{mia.id}")).status_code == 200
    # A member opening the join page goes to the team, reference or not.
    for path in (f"/clients/{mia.id}/join", link):
        again = await client.get(path)
        assert again.status_code == 303 and again.headers["location"] == f"/clients/{mia.id}"


async def test_a_reference_expires_after_two_hours(client, settings):
    *_rest, mia, _leo = await support.thompson_siblings()
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    await sign_in(client, nina)
    link = f"/clients/{mia.id}/join?ref={reference(settings, nina.id, mia.id)}"
    with clock.shifted(timedelta(hours=references.REFERENCE_HOURS) - timedelta(minutes=1)):
        assert (await client.get(link)).status_code == 200
    with clock.shifted(timedelta(hours=references.REFERENCE_HOURS, minutes=1)):
        late = await client.get(link)
        assert late.status_code == 404 and "Mia" not in late.text


async def test_circle_cards_and_duplicates_link_with_a_reference(client, settings):
    priya, _aroha, _sam, tom, mia, leo = await support.thompson_siblings()
    a, b, relationship = ordered_pair(leo.id, mia.id, "sibling")
    await CircleLink.create(client_a_id=a, client_b_id=b, relationship=relationship)
    await sign_in(client, tom)  # on Leo's team, not Mia's
    circle = (await client.get(f"/clients/{leo.id}/circle")).text
    page = await client.get(join_link(circle, mia.id))
    assert page.status_code == 200 and "Join the team for Mia Thompson" in page.text

    token = await csrf_token(client, "/clients/new")
    offered = await client.post(
        "/clients/new",
        data={
            "given_name": "Mia",
            "family_name": "Thompson",
            "birth": "year",
            "birth_year": "2023",
            "area_id": str(mia.area_id),
            "sharing_basis": "consent",
            "csrf_token": token,
        },
    )
    assert "Is it one of these?" in offered.text
    assert (await client.get(join_link(offered.text, mia.id))).status_code == 200
    offered_event = await AuditEvent.get(action="client.searched", actor_id=tom.id)
    assert offered_event.detail["scope"] == "duplicates" and offered_event.detail["results"] == 1
    assert priya


async def test_an_invitation_alert_leads_to_a_working_join_page(client, settings, smtp):
    priya, _aroha, _sam, mia = await support.thompson_team()
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}/invite")
    await client.post(f"/clients/{mia.id}/invite", data={"email": nina.email, "csrf_token": token})
    [mail] = await Outbox.filter(recipient=nina.email)
    assert "/notifications" in mail.body and f"/clients/{mia.id}" not in mail.body
    client.cookies.clear()
    await sign_in(client, nina)
    notifications = (await client.get("/notifications")).text
    assert "Mia" not in notifications
    page = await client.get(join_link(notifications, mia.id))
    assert page.status_code == 200 and "Join the team for Mia Thompson" in page.text


async def test_no_route_names_a_client_to_a_non_member_or_tells_ids_apart(client, settings):
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await support.member(
        mia, tom, ended_at=clock.now() - timedelta(days=3), end_reason="transferred"
    )
    secrets = await identities()
    app = client._transport.app  # type: ignore[attr-defined]
    await sign_in(client, tom)  # a former member of Mia's team
    token = await csrf_token(client, "/profile")
    checked = 0
    for route in app.routes:
        path = getattr(route, "path", "")
        if "{client_id:int}" not in path:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            answers = []
            for client_id in (mia.id, NOWHERE):
                url = re.sub(r"\{client_id:int\}", str(client_id), path)
                url = re.sub(r"\{\w+:int\}", "1", url)
                data = {"csrf_token": token, "reason": "nonsense", "role": "x", "text": "x"}
                response = await client.request(
                    method, url, data=data if method == "POST" else None
                )
                assert response.status_code in (403, 404), (method, url, response.status_code)
                assert reveals(response.text, secrets) == [], (method, url)
                answers.append((response.status_code, without_csrf(response.text)))
            assert answers[0] == answers[1], (method, path)
            checked += 1
    assert checked >= 20
    assert await Membership.filter(practitioner=tom, ended_at=None).count() == 1  # Leo's only
    assert not await Membership.exists(practitioner=tom, client=mia, ended_at=None)
    assert {priya.id, aroha.id, sam.id} == {
        m.practitioner_id for m in await Membership.filter(client=mia, ended_at=None)
    } and leo


# -- the property ---------------------------------------------------------------------------


@dataclass
class World:
    settings: Settings
    sessions: dict[str, httpx.AsyncClient]
    ids: dict[str, int]  # "member", "former", "stranger" → practitioner id
    clients: list[int]  # existing client ids
    secrets: list[str]
    tokens: dict[str, str]
    canonical: str = ""


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    priya, _aroha, _sam, tom, mia, leo = await support.thompson_siblings()
    await support.member(mia, tom, ended_at=clock.now(), end_reason="other")
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    ava = await support.client("Ava", "Walker", birth_date=date(2012, 5, 5))
    app = create_app(settings)
    sessions: dict[str, httpx.AsyncClient] = {}
    tokens: dict[str, str] = {}
    for role, person in (("member", priya), ("former", tom), ("stranger", nina)):
        session = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        await sign_in(session, person)
        tokens[role] = await csrf_token(session, "/profile")
        sessions[role] = session
    yield World(
        settings=settings,
        sessions=sessions,
        ids={"member": priya.id, "former": tom.id, "stranger": nina.id},
        clients=[mia.id, leo.id, ava.id],
        secrets=await identities(),
        tokens=tokens,
    )
    for session in sessions.values():
        await session.aclose()


REFERENCES = ("none", "own", "someone else's", "another client's", "expired", "garbage")


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    who=st.sampled_from(["member", "former", "stranger"]),
    pick=st.integers(min_value=0, max_value=4),
    kind=st.sampled_from(REFERENCES),
    method=st.sampled_from(["GET", "POST"]),
)
async def test_property_identity_only_with_a_reference_or_membership(
    world, who, pick, kind, method
):
    client_id = (world.clients + [NOWHERE, NOWHERE + 7])[pick]
    me = world.ids[who]
    secret = world.settings.secret_key
    ref = {
        "none": "",
        "own": references.client_reference(secret, me, client_id),
        "someone else's": references.client_reference(secret, me + 100, client_id),
        "another client's": references.client_reference(secret, me, client_id + 1),
        "expired": expired_reference(world.settings, me, client_id),
        "garbage": "x.y.z",
    }[kind]
    session = world.sessions[who]
    memberships = await Membership.all().count()
    refusals = await refused()
    is_member = await Membership.exists(practitioner_id=me, client_id=client_id, ended_at=None)
    if method == "GET":
        response = await session.get(f"/clients/{client_id}/join", params={"ref": ref})
    else:  # never ticked: a valid reference shows the form again, and nothing is joined
        response = await session.post(
            f"/clients/{client_id}/join",
            data={"role": "Nurse", "ref": ref, "csrf_token": world.tokens[who]},
        )
    assert await Membership.all().count() == memberships
    if is_member:
        assert response.status_code == 303
        assert response.headers["location"] == f"/clients/{client_id}"
    elif kind == "own" and client_id in world.clients:
        assert response.status_code == (200 if method == "GET" else 422)
        client = await Client.get(id=client_id)
        assert client.full_name in unescape(response.text)
    else:
        assert response.status_code == 404
        assert reveals(response.text, world.secrets) == []
        world.canonical = world.canonical or without_csrf(response.text)
        assert without_csrf(response.text) == world.canonical
        assert await refused() == refusals + 1


# -- join codes -----------------------------------------------------------------------------


async def show_code(client: httpx.AsyncClient, client_id: int) -> str:
    page = await client.get(f"/clients/{client_id}/join-code")
    assert page.status_code == 200 and "<svg" in page.text
    url = re.search(r'<p class="link-text">([^<]+)</p>', page.text).group(1)
    return url.replace("http://testserver", "")


def decodings(token: str) -> list[bytes]:
    """Every base64 reading of the token and its dot-separated parts."""
    out = []
    for part in [token, *token.split(".")]:
        try:
            out.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except (binascii.Error, ValueError):
            pass
    return out


async def test_a_join_code_is_an_opaque_reference_that_leads_to_a_working_join_page(
    client, settings
):
    priya, _aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, sam)  # a discreet member shows the code
    path = await show_code(client, mia.id)
    token = path.removeprefix("/join/")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", token)
    for raw in decodings(token):
        for needle in (b'"client"', b'"by"', b"Mia", b"Thompson"):
            assert needle not in raw
        with pytest.raises(ValueError):
            json.loads(raw)
    [code] = await JoinCode.all()
    assert code.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps([str(v) for v in dict(code).values()])
    assert code.client_id == mia.id and code.created_by_id == sam.id
    assert path != await show_code(client, mia.id)  # each code is new

    client.cookies.clear()
    await sign_in(client, tom)
    scanned = await client.get(path)
    assert scanned.status_code == 303
    landing = scanned.headers["location"]
    assert landing.startswith(f"/clients/{mia.id}/join?ref=")
    page = await client.get(landing)
    assert page.status_code == 200 and "Join the team for Mia Thompson" in page.text
    ref = unescape(re.search(r'name="ref" value="([^"]+)"', page.text).group(1))
    joined = await client.post(
        f"/clients/{mia.id}/join",
        data={
            "role": "Youth Worker",
            "working_with": "yes",
            "ref": ref,
            "csrf_token": await csrf_token(client, landing),
        },
    )
    assert joined.status_code == 303 and await Membership.exists(practitioner=tom, client=mia)
    used = await AuditEvent.get(action="team.join_code_used", actor_id=tom.id)
    assert used.client_id == mia.id and str(sam.id) not in json.dumps(used.detail)
    assert priya


async def test_a_join_code_expires_after_ten_minutes_and_a_forged_one_is_unknown(client):
    priya, _aroha, _sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, priya)
    path = await show_code(client, mia.id)
    client.cookies.clear()
    await sign_in(client, tom)
    with clock.shifted(timedelta(minutes=9)):
        assert (await client.get(path)).status_code == 303
    with clock.shifted(timedelta(minutes=10, seconds=1)):
        expired = await client.get(path)
        assert expired.status_code == 410 and "expired" in expired.text
    assert (await client.get(path + "x")).status_code == 404
    assert (await client.get("/join/" + "A" * 43)).status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/join/Abc-123_xyzAbc-123_xyzAbc-123_xyzAbc-123_x", "/join/Abc_-9?utm=1", "/join/a/b"],
)
def test_a_join_code_is_redacted_in_the_access_log(path):
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s", ("ip", "GET", path), None
    )
    assert RedactAccessLog().filter(record)
    assert record.getMessage().startswith("ip GET /join/[token]")
    assert "Abc" not in record.getMessage()
