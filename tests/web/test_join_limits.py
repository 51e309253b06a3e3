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
from models.circles import CircleLink
from models.notifications import Notification, Outbox
from models.practitioners import PractitionerArea
from models.teams import Membership
from tests import support
from tests.web.helpers import csrf_token, sign_in
from web.core import clock, references
from web.teams.attentions import ATTENTIONS_PER_HOUR


def counted_in(html: str) -> str:
    """The proof a search's results carry that the search was counted."""
    found = re.search(r"counted=([^&\"]+)", html)
    assert found, "the results carry no proof of counting"
    return unescape(found.group(1))


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
                "ref": references.client_reference(settings.secret_key, tom.id, mia.id),
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
    first = await client.get("/clients/search", params={"q": "Mia Thompson"})
    assert first.status_code == 200
    proof = counted_in(first.text)  # its results' links carry it
    asks = [
        {"q": "mia thompson", "scope": "district", "counted": proof},
        {"q": "thompson  MIA", "scope": "state", "counted": proof},
        {"q": "mia thompson", "show": ["district", "state"], "counted": proof},
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


async def test_the_same_query_in_other_areas_counts_again(client, settings):
    """Changing one's areas between searches reaches other clients, so the same text searched
    in other areas is another search; one search's groups still count once."""
    await priya_signed_in(client)  # Brimbank
    limit = settings.search_rate_per_hour
    for text in distinct_queries(limit - 2):
        assert (await client.get("/clients/search", params={"q": text})).status_code == 200

    async def search_every_group(proof: str = "") -> tuple[list[int], str]:
        """The search, then its other groups as its results ask for them."""
        first = await client.get("/clients/search", params={"q": "mia thompson", "counted": proof})
        proof = counted_in(first.text) if first.status_code == 200 else ""
        asks = [
            {"q": "Thompson Mia", "scope": "district", "counted": proof},
            {"q": "mia thompson", "scope": "state", "counted": proof},
            {"q": "mia thompson", "show": ["district", "state"], "counted": proof},
        ]
        statuses = [(await client.get("/clients/search", params=p)).status_code for p in asks]
        return [first.status_code, *statuses], proof

    async def choose(code: str) -> None:
        token = await csrf_token(client, "/profile")
        area = await support.council(code)
        saved = await client.post("/profile/areas", data={"areas": [area.id], "csrf_token": token})
        assert saved.status_code == 303

    statuses, brimbank = await search_every_group()
    assert statuses == [200] * 4  # counted once: limit - 1
    await choose("LGA27260")  # Wyndham: other local, district and state groups
    statuses, wyndham = await search_every_group(brimbank)  # Brimbank's proof is not Wyndham's
    assert statuses == [200] * 4 and wyndham != brimbank  # counted once more: the limit
    await choose("LGA22750")  # Greater Geelong: yet other clients, refused
    assert (await search_every_group(wyndham))[0] == [429] * 4
    await choose("LGA21180")  # back to Brimbank: its results, counted this hour, still shown
    assert (await search_every_group(brimbank))[0] == [200] * 4


async def test_opening_a_join_page_counts_against_the_search_limit(client, settings):
    *_team, mia = await support.thompson_team()
    nina = await support.practitioner("Nina Rossi", "nina.rossi@brimbank.example")
    await sign_in(client, nina)
    link = references.join_url(settings.secret_key, nina.id, mia.id)
    for _ in range(3):  # the same client opened again within the hour counts once
        assert (await client.get(link)).status_code == 200
    for text in distinct_queries(settings.search_rate_per_hour - 1):
        assert (await client.get("/clients/search", params={"q": text})).status_code == 200
    assert (await client.get("/clients/search", params={"q": "leo thompson"})).status_code == 429
    other = await support.client("Ava", "Walker")
    late = await client.get(
        f"/clients/{other.id}/join",
        params={"ref": references.client_reference(settings.secret_key, nina.id, other.id)},
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


async def test_toggling_visibility_linking_and_raising_cannot_flood_a_team(client):
    """Becoming visible over and over alerts the team once an hour (with joins and leaves) and
    counts as a join (three an hour, as leaving and joining again would); linking and unlinking
    a circle alerts each team once; attentions are capped at 10."""
    priya, aroha, sam, tom, mia, leo = await support.thompson_siblings()
    await sign_in(client, sam)
    token = await csrf_token(client, f"/clients/{mia.id}")
    seen = []
    for wanted in ("no", "yes") * 5:
        toggled = await client.post(
            f"/clients/{mia.id}/visibility",
            data={"discreet": wanted, "confirmed": "yes", "csrf_token": token},
        )
        if wanted == "no":
            seen.append(toggled.status_code)
        else:
            assert toggled.status_code == 303
    assert seen == [303, 303, 303, 429, 429]
    assert await Membership.filter(practitioner=sam, client=mia, discreet=False).count() == 3
    assert await Notification.filter(practitioner=aroha, kind="joined").count() == 1
    client.cookies.clear()
    await sign_in(client, priya)
    token = await csrf_token(client, f"/clients/{mia.id}")
    for _ in range(5):
        linked = await client.post(
            f"/clients/{mia.id}/circle",
            data={"other": str(leo.id), "relationship": "sibling", "csrf_token": token},
        )
        assert linked.status_code == 303
        link = await CircleLink.get()
        removed = await client.post(
            f"/clients/{mia.id}/circle/{link.id}/remove", data={"csrf_token": token}
        )
        assert removed.status_code == 303
    assert await Notification.filter(practitioner=aroha, kind__startswith="circle").count() == 1
    assert await Notification.filter(practitioner=tom, kind__startswith="circle").count() == 1
    answers = []
    for n in range(ATTENTIONS_PER_HOUR + 2):
        raised = await client.post(
            f"/clients/{mia.id}/attentions", data={"text": f"Call {n}", "csrf_token": token}
        )
        answers.append(raised.status_code)
    assert answers == [303] * ATTENTIONS_PER_HOUR + [429, 429]
    assert await Notification.filter(practitioner=aroha, kind="attention_raised").count() == (
        ATTENTIONS_PER_HOUR
    )
