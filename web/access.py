"""Who may see what. Every visibility rule lives here, and routes call it.

- A client's team is visible to its current members only.
- A discreet member is visible to nobody but themself.
- The phone book lists active practitioners who have finished signing up, never their clients.
- Invitations are seen and managed by whoever sent them, and by state administrators.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Count

from models.areas import Area
from models.attentions import Attention
from models.clients import Client
from models.practitioners import SIGNUP_ANSWERED, Practitioner, PractitionerArea
from models.teams import Membership


def current() -> Q:
    return Q(ended_at__isnull=True)


def visible_to(viewer: Practitioner) -> Q:
    """Memberships `viewer` may see: everyone's but discreet ones, and their own."""
    return current() & (Q(discreet=False) | Q(practitioner_id=viewer.id))


async def is_member(practitioner: Practitioner, client_id: int) -> bool:
    return await Membership.filter(
        current(), client_id=client_id, practitioner_id=practitioner.id
    ).exists()


async def visible_team(viewer: Practitioner, client_id: int) -> list[Membership]:
    """The team as `viewer` sees it, practitioners and organisations loaded (one query)."""
    return (
        await Membership.filter(visible_to(viewer), client_id=client_id)
        .select_related("practitioner__organisation")
        .order_by("started_at", "id")
    )


@dataclass(frozen=True)
class ClientCard:
    client: Client
    membership: Membership
    visible_members: int
    open_attentions: int


async def my_clients(practitioner: Practitioner) -> list[ClientCard]:
    """Cards for the teams `practitioner` is on, in three queries whatever their number."""
    mine = (
        await Membership.filter(current(), practitioner_id=practitioner.id)
        .select_related("client__area")
        .order_by("client__family_name", "client__given_name", "client_id")
    )
    client_ids = [m.client_id for m in mine]  # type: ignore[attr-defined]
    if not client_ids:
        return []
    members = await _count_by_client(
        Membership.filter(visible_to(practitioner), client_id__in=client_ids)
    )
    attentions = await _count_by_client(
        Attention.filter(client_id__in=client_ids, resolved_at__isnull=True)
    )
    return [
        ClientCard(
            client=m.client,
            membership=m,
            visible_members=members.get(m.client_id, 0),  # type: ignore[attr-defined]
            open_attentions=attentions.get(m.client_id, 0),  # type: ignore[attr-defined]
        )
        for m in mine
    ]


async def _count_by_client(queryset) -> dict[int, int]:  # type: ignore[no-untyped-def]
    rows = await queryset.annotate(n=Count("id")).group_by("client_id").values("client_id", "n")
    return {row["client_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Scopes:
    """Where a practitioner's searches look, nearest first."""

    local: list[Area]
    district_council_ids: list[int]
    district_label: str
    state_label: str


async def my_areas(practitioner: Practitioner) -> list[Area]:
    """The areas chosen (in order), then, automatically, those of clients whose teams they
    are on."""
    chosen = [
        link.area
        for link in await PractitionerArea.filter(practitioner_id=practitioner.id)
        .select_related("area")
        .order_by("position", "id")
    ]
    automatic = await automatic_areas(practitioner.id, [a.id for a in chosen])
    return chosen + [area for area, _teams in automatic]


async def automatic_areas(practitioner_id: int, chosen: list[int]) -> list[tuple[Area, int]]:
    """The council areas added because the practitioner is on a client's team there (and did
    not choose), by name, each with how many of their teams are there."""
    teams = await Membership.filter(current(), practitioner_id=practitioner_id).values_list(
        "client__area_id", flat=True
    )
    counts = Counter(int(str(area_id)) for area_id in teams if area_id not in chosen)
    areas = await Area.filter(id__in=list(counts)).order_by("name")
    return [(area, counts[area.id]) for area in areas]


async def search_scopes(practitioner: Practitioner) -> Scopes:
    local = await my_areas(practitioner)
    if not local:  # nothing chosen yet: the organisation's own council
        await practitioner.fetch_related("organisation__area")
        local = [practitioner.organisation.area]
    district_council_ids = sorted({a.parent_id for a in local if a.parent_id})  # type: ignore[attr-defined]
    districts = await Area.filter(id__in=district_council_ids).order_by("name")
    state = await Area.filter(kind="state").first()
    councils = await Area.filter(parent_id__in=district_council_ids, kind="council").values_list(
        "id", flat=True
    )
    local_ids = {a.id for a in local}
    return Scopes(
        local=local,
        district_council_ids=[i for i in councils if i not in local_ids],  # type: ignore[misc]
        district_label=" and ".join(d.name for d in districts) or "your district",
        state_label=state.name if state else "the state",
    )


async def member_of(practitioner: Practitioner, client_ids: list[int]) -> set[int]:
    """Which of these clients' teams `practitioner` is on (one query)."""
    if not client_ids:
        return set()
    rows = await Membership.filter(
        current(), practitioner_id=practitioner.id, client_id__in=client_ids
    ).values_list("client_id", flat=True)
    return set(rows)  # type: ignore[arg-type]


def ever_visible_to(viewer: Practitioner) -> Q:
    """Current and past memberships `viewer` may see: never a discreet one but their own."""
    return Q(discreet=False) | Q(practitioner_id=viewer.id)


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    who: str
    text: str


LEFT_BECAUSE = {
    "case_closed": "case closed",
    "transferred": "transferred",
    "lapsed": "involvement not confirmed",
    "other": "other reason",
}


def history_events(
    viewer: Practitioner, memberships: list[Membership], attentions: list[Attention]
) -> list[Event]:
    """The team's history as `viewer` may see it, newest first. Someone discreet is never
    named: their attentions read "A team member"."""
    seen = {m.practitioner_id: m.practitioner.name for m in memberships}
    events: list[Event] = []
    for m in memberships:
        organisation = m.practitioner.organisation.name
        events.append(
            Event(
                m.started_at, "joined", m.practitioner.name, f"joined as {m.role}, {organisation}"
            )
        )
        if m.ended_at:
            events.append(
                Event(
                    m.ended_at,
                    "left",
                    m.practitioner.name,
                    f"left the team ({LEFT_BECAUSE.get(m.end_reason, 'other')})",
                )
            )
    for a in attentions:
        raiser = seen.get(a.raised_by_id or 0, "A team member")  # type: ignore[attr-defined]
        events.append(Event(a.created_at, "attention", raiser, f"raised an attention: {a.text}"))
        if a.resolved_at:
            resolver = seen.get(a.resolved_by_id or 0, "A team member")  # type: ignore[attr-defined]
            events.append(Event(a.resolved_at, "resolved", resolver, "resolved an attention"))
    return sorted(events, key=lambda e: e.at, reverse=True)


def listed_in_phone_book() -> Q:
    """Practitioners the phone book shows: active, with their signup answered."""
    return Q(active=True, signup_step__gte=SIGNUP_ANSWERED)


def manages_every_invitation(practitioner: Practitioner) -> bool:
    return practitioner.role == "state_admin"


def invitations_managed_by(practitioner: Practitioner) -> Q:
    """Invitations sent by colleagues (not self-signups) that this practitioner may see,
    resend and withdraw: their own, or everyone's for a state administrator."""
    sent = Q(invited_by_id__isnull=False)
    if manages_every_invitation(practitioner):
        return sent
    return sent & Q(invited_by_id=practitioner.id)
