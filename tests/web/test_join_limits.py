"""Limits that protect people: joining one team again and again is refused, a join/leave
flood alerts each member once, and every way of reaching clients counts against the hourly
search limit, one query once however its groups are asked for."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from itertools import product
from string import ascii_lowercase

from models.audit import AuditEvent
from models.notifications import Notification, Outbox
from models.practitioners import PractitionerArea
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web import access, clock


def distinct_queries(count: int) -> list[str]:
    """`count` different acceptable searches ("mia aa", "mia ab", …)."""
    words = ("".join(pair) for pair in product(ascii_lowercase, repeat=2))
    return [f"mia {next(words)}" for _ in range(count)]


async def test_a_join_leave_flood_alerts_each_member_once_and_the_fourth_join_is_refused(
    client, settings
):
    priya, aroha, sam, mia = await support.thompson_team()
    tom = await support.practitioner("Tom Walsh", "tom.walsh@wyndham.example")
    await sign_in(client, tom)
    results = await client.get("/clients/search", params={"q": "mia thompson"})
    link = unescape(re.search(rf'href="(/clients/{mia.id}/join\?ref=[^"]+)"', results.text)[1])
    ref = link.split("ref=", 1)[1]
    token = await csrf_token(client, link)
    answers = []
    for _cycle in range(5):
        joined = await client.post(
            f"/clients/{mia.id}/join",
            data={"role": "Youth Worker", "working_with": "yes", "ref": ref, "csrf_token": token},
        )
        answers.append(joined.status_code)
        if joined.status_code == 429:
            assert "3 times" in joined.text and "Try again" in joined.text
            assert not await Membership.exists(practitioner=tom, client=mia, ended_at=None)
            continue
        left = await client.post(
            f"/clients/{mia.id}/leave", data={"reason": "other", "csrf_token": token}
        )
        assert left.status_code == 303
    assert answers == [303, 303, 303, 429, 429]
    assert await Membership.filter(practitioner=tom, client=mia).count() == 3
    assert await AuditEvent.filter(action="team.join_limited", actor_id=tom.id).count() == 2
    for member in (priya, aroha, sam):
        told = await Notification.filter(practitioner=member, actor_id=tom.id)
        assert len(told) == 1 and told[0].kind == "joined"
        assert await Outbox.filter(recipient=member.email).count() == 1

    # An hour later it is news again, and joining is allowed again.
    with clock.shifted(timedelta(hours=1, minutes=1)):
        again = await client.post(
            f"/clients/{mia.id}/join",
            data={
                "role": "Youth Worker",
                "working_with": "yes",
                "ref": access.client_reference(settings.secret_key, tom.id, mia.id),
                "csrf_token": token,
            },
        )
        assert again.status_code == 303
        assert await Notification.filter(practitioner=priya, actor_id=tom.id).count() == 2


async def priya_signed_in(client):
    priya = await support.practitioner()
    await PractitionerArea.create(practitioner=priya, area=await support.council("LGA21180"))
    await sign_in(client, priya)
    return priya


async def test_distinct_searches_asked_for_one_group_are_refused_at_the_limit(client, settings):
    priya = await priya_signed_in(client)
    limit = settings.search_rate_per_hour
    for text in distinct_queries(limit):
        answer = await client.get(
            "/clients/search",
            params={"q": text, "scope": "district"},
            headers={"HX-Request": "true"},
        )
        assert answer.status_code == 200
    for scope in ("district", "state", ""):
        refused = await client.get("/clients/search", params={"q": "leo thompson", "scope": scope})
        assert refused.status_code == 429 and "stops anyone browsing" in refused.text
    assert await AuditEvent.filter(action="client.search_refused", actor_id=priya.id).count() == 3
    assert await AuditEvent.filter(action="client.searched", actor_id=priya.id).count() == limit


async def test_one_query_counts_once_however_its_groups_are_asked_for(client, settings):
    priya = await priya_signed_in(client)
    limit = settings.search_rate_per_hour
    for text in distinct_queries(limit - 1):
        assert (await client.get("/clients/search", params={"q": text})).status_code == 200
    asks = [
        {"q": "Mia Thompson"},
        {"q": "mia thompson", "scope": "district"},
        {"q": "thompson  MIA", "scope": "state"},
        {"q": "mia thompson", "show": ["district", "state"]},
    ]
    for params in asks:
        assert (await client.get("/clients/search", params=params)).status_code == 200
    searched = await AuditEvent.filter(action="client.searched", actor_id=priya.id)
    assert len(searched) == limit - 1 + 1 + 1 + 1 + 3  # every group is still audited
    assert (await client.get("/clients/search", params={"q": "leo thompson"})).status_code == 429
    with clock.shifted(timedelta(hours=1, minutes=1)):
        assert (
            await client.get("/clients/search", params={"q": "leo thompson"})
        ).status_code == 200


async def test_opening_a_join_page_counts_against_the_search_limit(client, settings):
    *_team, mia = await support.thompson_team()
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    await sign_in(client, nina)
    link = access.join_url(settings.secret_key, nina.id, mia.id)
    for _ in range(3):  # the same client opened again within the hour counts once
        assert (await client.get(link)).status_code == 200
    for text in distinct_queries(settings.search_rate_per_hour - 1):
        assert (await client.get("/clients/search", params={"q": text})).status_code == 200
    assert (await client.get("/clients/search", params={"q": "leo thompson"})).status_code == 429
    other = await support.client("Ava", "Walker")
    late = await client.get(
        f"/clients/{other.id}/join",
        params={"ref": access.client_reference(settings.secret_key, nina.id, other.id)},
    )
    assert late.status_code == 429 and "Ava" not in late.text
    assert await AuditEvent.filter(action="team.join_opened", actor_id=nina.id).count() == 3


async def test_offering_duplicates_counts_against_the_search_limit(client, settings):
    priya = await priya_signed_in(client)
    await support.client("Mia", "Thompson")
    for text in distinct_queries(settings.search_rate_per_hour):
        assert (await client.get("/clients/search", params={"q": text})).status_code == 200
    token = await csrf_token(client, "/clients/new")
    form = {
        "given_name": "Mia",
        "family_name": "Thompson",
        "birth": "unknown",
        "area_id": str((await support.council()).id),
        "sharing_basis": "consent",
        "csrf_token": token,
    }
    refused = await client.post("/clients/new", data=form)
    assert refused.status_code == 429 and "Thompson" not in refused.text.split("<main", 1)[1]
    assert await AuditEvent.filter(action="client.search_refused", actor_id=priya.id).count() == 1
