"""Discreet means undetectable, tested as two worlds.

Each test builds the same deployment twice. The worlds differ only in whether Sam (Westside
Recovery, a sensitive service) is discreetly on Mia's team and what Sam does there, or, for
actions that cannot stay hidden, in whether Sam or a visible member did them unnamed.
Everything every other practitioner can observe — each page and its htmx fragment, counts,
error pages, the emails and calendar files queued for them, their push payloads, their
notifications and digests — is collected and compared after masking tokens, ids of rows
the worlds create in different numbers, and times. Nothing is grepped for Sam's name: a
difference of any kind fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from models.notifications import Outbox, PushSubscription
from models.practitioners import Practitioner
from tests import support
from tests.conftest import empty_database
from tests.web.helpers import csrf_token, sign_in
from web.app import create_app
from web.core import alerts, checkins, clock
from web.core.settings import Settings


@dataclass
class World:
    priya: Practitioner
    aroha: Practitioner
    tom: Practitioner
    nora: Practitioner  # signed in, on no team: a curious colleague
    sam: Practitioner
    mia: int
    leo: int


async def build(with_sam: bool) -> World:
    """Mia's team (Priya, Aroha, and Sam only if `with_sam`), Leo's (Tom, Priya)."""
    priya = await support.practitioner(mobile="0491 570 156")
    dffh = await support.organisation("DFFH — Child Protection", "dffh.example")
    aroha = await support.practitioner(
        "Aroha Ngata", "aroha.ngata@dffh.example", dffh, job_title="Child Protection Practitioner"
    )
    tom = await support.practitioner(
        "Tom Walsh", "tom.walsh@brimbank.example", job_title="Youth Worker"
    )
    nora = await support.practitioner(
        "Nora Quinn", "nora.quinn@brimbank.example", job_title="School Nurse"
    )
    westside = await support.organisation(
        "Westside Recovery Service", "westsiderecovery.example", sensitive=True
    )
    # Sam exists in both worlds (the phone book lists everyone); only the involvement differs.
    sam = await support.practitioner(
        "Sam Lee", "sam.lee@westsiderecovery.example", westside, job_title="Clinician"
    )
    await Practitioner.filter(id=priya.id).update(notify_email="digest", notify_push="immediate")
    for person in (priya, aroha, tom):
        await PushSubscription.create(
            practitioner_id=person.id,
            endpoint=f"http://127.0.0.1:9/push/{person.id}",
            p256dh="BNc" + "A" * 84,
            auth="A" * 22,
        )
    mia = await support.client()
    leo = await support.client("Leo")
    long_ago = clock.now() - timedelta(days=30)
    await support.member(mia, priya, started_at=long_ago)
    await support.member(mia, aroha, started_at=long_ago)
    await support.member(leo, tom, started_at=long_ago)
    await support.member(leo, priya, started_at=long_ago)
    if with_sam:
        await support.member(mia, sam, discreet=True, started_at=long_ago)
        await support.member(leo, sam, discreet=True, started_at=long_ago)
    return World(priya, aroha, tom, nora, sam, mia.id, leo.id)


Signed = Callable[[Practitioner], Awaitable[httpx.AsyncClient]]


@asynccontextmanager
async def browsers(settings: Settings) -> AsyncIterator[Signed]:
    """One cookie jar per practitioner, all on one in-process app."""
    app = create_app(settings)
    opened: dict[int, httpx.AsyncClient] = {}

    async def as_(person: Practitioner) -> httpx.AsyncClient:
        if person.id not in opened:
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 50000)),
                base_url="http://testserver",
                headers={"accept": "text/html"},
            )
            await sign_in(http, person)
            opened[person.id] = http
        return opened[person.id]

    try:
        yield as_
    finally:
        for http in opened.values():
            await http.aclose()


async def post(http: httpx.AsyncClient, path: str, **data: str) -> httpx.Response:
    """A form post from the page the form is on; the request must be accepted (303)."""
    token = await csrf_token(http, "/")
    response = await http.post(path, data={**data, "csrf_token": token})
    assert response.status_code == 303, (path, response.status_code, response.text[:300])
    return response


MASKS = [
    (re.compile(r'name="csrf[-_]token" (content|value)="[^"]+"'), 'name="csrf" value="…"'),
    (re.compile(r'value="[0-9a-f]{64}"'), 'value="…"'),
    (re.compile(r"(token|ref|counted)=[A-Za-z0-9_\-.%]+"), r"\1=…"),
    # A search's typing-run token: its query's hash, the second it was made, a step count.
    (re.compile(r'name="run" value="[^"]+"'), 'name="run" value="…"'),
    (re.compile(r"/(invitations|join)/[A-Za-z0-9_\-.]+"), r"/\1/…"),
    (re.compile(r"\d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} [ap]m"), "DATE"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.+\-]+"), "ISO"),
    (re.compile(r"\d{8}T\d{6}Z"), "ICSTIME"),
    (re.compile(r"UID:[^\r\n]+"), "UID:…"),
    (re.compile(r"/attentions/\d+/"), "/attentions/N/"),
]


def masked(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def pages(world: World) -> list[str]:
    mia, leo = world.mia, world.leo
    return [
        "/",
        f"/clients/{mia}",
        f"/clients/{mia}/attentions",
        f"/clients/{mia}/circle",
        f"/clients/{mia}/history",
        f"/clients/{mia}/meeting",
        f"/clients/{mia}/invite",
        f"/clients/{mia}/join",
        f"/clients/{mia}/leave",
        f"/clients/{mia}/checkin",
        f"/clients/{mia}/lead",
        f"/clients/{leo}",
        f"/clients/{leo}/circle",
        f"/clients/{leo}/history",
        "/clients/search?q=Mia+Thompson",
        "/clients/search?q=Leo+Thompson",
        "/people?q=Westside",
        "/clients/search?q=Westside",
        "/clients/search?q=sam+lee",
        f"/people/{world.sam.id}",
        "/notifications/badge",
        "/notifications",
    ]


async def observe(world: World, as_: Signed, settings: Settings) -> dict[str, Any]:
    """Everything each practitioner but Sam can see, masked."""
    seen: dict[str, Any] = {}
    # Read before anyone opens /notifications (which marks them read).
    for person in (world.priya, world.aroha, world.tom, world.nora):
        http = await as_(person)
        for path in pages(world):
            for fragment in (False, True):
                headers = {"HX-Request": "true"} if fragment else {}
                response = await http.get(path, headers=headers)
                key = f"{person.name} GET {path}{' (htmx)' if fragment else ''}"
                seen[key] = (response.status_code, masked(response.text))
    await alerts.send_digests(settings)
    subscriptions = {
        str(s.id): s.practitioner_id
        for s in await PushSubscription.exclude(practitioner_id=world.sam.id)
    }
    names = {p.id: p.name for p in (world.priya, world.aroha, world.tom)}
    for item in await Outbox.all().order_by("id"):
        if item.channel == "email" and item.recipient != world.sam.email:
            attachments = [masked(a["content"]) for a in item.attachments or []]
            seen.setdefault(f"email to {item.recipient}", []).append(
                (masked(item.subject), masked(item.body), attachments)
            )
        elif item.channel == "push" and item.recipient in subscriptions:
            who = names[subscriptions[item.recipient]]
            seen.setdefault(f"push to {who}", []).append(json.loads(item.body))
    return seen


async def in_world(
    settings: Settings, with_sam: bool, story: Callable[[World, Signed], Awaitable[None]]
) -> dict[str, Any]:
    world = await build(with_sam)
    async with browsers(settings) as as_:
        await story(world, as_)
        seen = await observe(world, as_, settings)
    await empty_database()
    return seen


def assert_same(first: dict[str, Any], second: dict[str, Any]) -> None:
    assert first.keys() == second.keys()
    different = [key for key in first if first[key] != second[key]]
    assert not different, (
        f"observably different: {different[:5]}\n{first[different[0]]}\n---\n{second[different[0]]}"
    )


async def visible_story(world: World, as_: Signed) -> None:
    """What the visible members do in both worlds."""
    priya, aroha = await as_(world.priya), await as_(world.aroha)
    await post(priya, f"/clients/{world.mia}/attentions", text="Missed two appointments")
    await aroha.get(f"/clients/{world.mia}/attentions")
    await post(aroha, f"/clients/{world.mia}/contact")
    await post(priya, f"/clients/{world.mia}/lead", member=str(world.aroha.id))
    await post(
        priya,
        f"/clients/{world.mia}/meeting",
        date=(clock.today() + timedelta(days=3)).isoformat(),
        time="10:00",
        minutes="60",
        place="Sunshine MCH Centre",
        agenda="",
    )


async def test_what_a_discreet_member_does_quietly_is_invisible_to_everyone_else(settings):
    """Sam views every tab, records contact, acknowledges and resolves nothing visible,
    confirms a check-in, lapses, and leaves: nobody else can tell any of it happened."""

    async def with_sam(world: World, as_: Signed) -> None:
        sam = await as_(world.sam)
        for path in pages(world):
            assert (await sam.get(path)).status_code < 500
        await visible_story(world, as_)
        await sam.get(f"/clients/{world.mia}/attentions")
        attention = re.search(
            r"/attentions/(\d+)/acknowledge",
            (await sam.get(f"/clients/{world.mia}/attentions")).text,
        )
        assert attention, "Sam can acknowledge Priya's attention"
        await post(sam, f"/clients/{world.mia}/attentions/{attention.group(1)}/acknowledge")
        await post(sam, f"/clients/{world.mia}/contact")
        await post(sam, f"/clients/{world.mia}/checkin")
        assert (await sam.get(f"/clients/{world.mia}/visibility")).status_code == 200
        # A lapse of Sam's involvement on Leo's team, and the scheduled jobs that notice it.
        with clock.shifted(timedelta(days=settings.checkin_days + 20)):
            await checkins.ask_for_checkins(settings)
            await checkins.tell_teams_about_lapses(settings)
        await post(sam, f"/clients/{world.mia}/leave", reason="case_closed")

    async def without_sam(world: World, as_: Signed) -> None:
        await visible_story(world, as_)
        with clock.shifted(timedelta(days=settings.checkin_days + 20)):
            await checkins.ask_for_checkins(settings)
            await checkins.tell_teams_about_lapses(settings)

    first = await in_world(settings, True, with_sam)
    second = await in_world(settings, False, without_sam)
    assert_same(first, second)


@pytest.mark.parametrize("action", ["attention", "meeting", "circle", "invite", "resolve"])
async def test_what_a_discreet_member_cannot_hide_reads_like_a_visible_members_action(
    settings, action
):
    """Where the team must notice something (an attention, a meeting, a circle link, an
    invitation, a resolution), Sam's reads exactly as the same thing done by Priya."""

    async def story_by(who: str) -> Callable[[World, Signed], Awaitable[None]]:
        async def story(world: World, as_: Signed) -> None:
            actor = await as_(getattr(world, who))
            mia = world.mia
            if action == "attention":
                await post(actor, f"/clients/{mia}/attentions", text="Please call", unnamed="yes")
            elif action == "meeting":
                await post(
                    actor,
                    f"/clients/{mia}/meeting",
                    date=(clock.today() + timedelta(days=3)).isoformat(),
                    time="10:00",
                    minutes="30",
                    place="Online",
                    agenda="",
                )
            elif action == "circle":
                await post(
                    actor, f"/clients/{mia}/circle", other=str(world.leo), relationship="sibling"
                )
            elif action == "invite":
                await post(actor, f"/clients/{mia}/invite", email="new.colleague@brimbank.example")
                await post(actor, f"/clients/{mia}/invite", email=world.tom.email)
            else:
                priya = await as_(world.priya)
                await post(priya, f"/clients/{mia}/attentions", text="Missed an appointment")
                page = (await actor.get(f"/clients/{mia}/attentions")).text
                found = re.search(r"/attentions/(\d+)/resolve", page)
                assert found
                await post(actor, f"/clients/{mia}/attentions/{found.group(1)}/resolve")

        return story

    priya_sees = ("to priya.nair@brimbank.example", "to Priya Nair")
    first = await in_world(settings, True, await story_by("sam"))
    second = await in_world(settings, True, await story_by("priya"))
    # Priya sees her own action as hers: compare what everyone else observes.
    for seen in (first, second):
        for key in [k for k in seen if k.startswith("Priya") or k.endswith(priya_sees)]:
            del seen[key]
    assert_same(first, second)
