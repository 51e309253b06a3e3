"""Reading the audit log: the filters a request carries, the events an administrator may see,
and keyset pagination (newest first by (at, id), never OFFSET).

Scope: a state administrator sees every event. A local administrator sees an event when its
area (the client's council) is one they look after, or when whoever did it belongs to an
organisation based in one of those councils. So sign-ins, searches and profile changes (which
have no area) are seen by the administrators of the actor's organisation's council, and what
Patchwork does by itself with no area (retention removals, daily jobs) only by state
administrators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count, Max, Min

from models.areas import Area
from models.audit import AuditEvent
from models.practitioners import Practitioner
from web.admin.audit_log_events import LABELS, OWN_VIEWS, describe, label, who
from web.core import clock
from web.core.forms import MAX_ID, form_date, form_int

PAGE = 50
#: The most events one CSV holds, said on the page.
CSV_CAP = 10_000
#: Events are bigint ids.
MAX_EVENT_ID = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A cursor's instant lies between these (microseconds since 1970), or it was not made here.
EARLIEST_MICROS = 946_684_800 * 10**6  # 2000-01-01
LATEST_MICROS = 4_133_980_800 * 10**6  # 2101-01-01
CURSOR = re.compile(r"([0-9a-f]{1,15})-([0-9a-f]{1,16})")
NAMES = ("practitioner", "client", "action", "area", "from", "to")


@dataclass
class Filters:
    """What the form asked for, checked: `typed` refills the form, `errors` says what was
    wrong with each field."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    practitioner: str = ""
    client: int | None = None
    action: str = ""
    councils: list[int] | None = None
    since: date | None = None
    until: date | None = None

    def query(self, **extra: str) -> str:
        """The query string for the same filters (plus `extra`), for links."""
        return urlencode({k: v for k, v in {**self.typed, **extra}.items() if v})

    def detail(self) -> dict[str, str]:
        """The filters as an audit event's detail: what was asked for."""
        return {k: v for k, v in self.typed.items() if v}


def read_filters(params: Mapping[str, str], areas: list[tuple[Area, list[Area]]]) -> Filters:
    """The filters in a query string; each bad value is an error for its field."""
    typed = {name: str(params.get(name, "")).strip()[:254] for name in NAMES}
    found = Filters(typed=typed, practitioner=typed["practitioner"])
    errors = found.errors
    if typed["client"]:
        found.client = form_int(typed["client"], low=1, high=MAX_ID)
        if found.client is None:
            errors["client"] = "Enter a client id: a whole number, like 1234"
    if typed["action"]:
        found.action = typed["action"] if typed["action"] in LABELS else ""
        if not found.action:
            errors["action"] = "Choose an event type from the list"
    if typed["area"]:
        found.councils = councils_of(typed["area"], areas)
        if found.councils is None:
            errors["area"] = "Choose an area from the list"
    for name in ("from", "to"):
        if typed[name] and form_date(typed[name]) is None:
            errors[name] = "Enter a date like 2026-11-30"
    found.since, found.until = form_date(typed["from"]), form_date(typed["to"])
    if found.since and found.until and found.since > found.until:
        errors["to"] = "The end date must be on or after the start date"
    return found


def councils_of(value: str, areas: list[tuple[Area, list[Area]]]) -> list[int] | None:
    """The councils an area choice stands for (a district: those of its councils the
    administrator looks after), or None when it is not one of the choices."""
    chosen = form_int(value, low=1, high=MAX_ID)
    for district, councils in areas:
        if chosen == district.id:
            return [c.id for c in councils]
        if chosen in {c.id for c in councils}:
            return [chosen]
    return None


def in_councils(council_ids: list[int]) -> Q:
    """Events about a client in these councils, or done by someone from an organisation
    based in them."""
    staff = Subquery(Practitioner.filter(organisation__area_id__in=council_ids).values("id"))
    return Q(area_id__in=council_ids) | Q(actor_id__in=staff)


def local_start(day: date) -> datetime:
    """Midnight at the start of `day` in the deployment's zone, in UTC (SQLite compares the
    stored text, all of it UTC)."""
    return datetime.combine(day, time(), tzinfo=clock.zone()).astimezone(UTC)


def matching(looked_after: list[int] | None, filters: Filters) -> Q:
    """Every event the administrator may see that the filters ask for."""
    wanted = [Q() if looked_after is None else in_councils(looked_after)]
    if filters.practitioner:
        text = filters.practitioner
        people = Practitioner.filter(Q(name__icontains=text) | Q(email__icontains=text))
        wanted.append(Q(actor_id__in=Subquery(people.values("id"))))
    if filters.client is not None:
        wanted.append(Q(client_id=filters.client))
    # The log's own views are listed only when asked for, or it would fill with them.
    wanted.append(Q(action=filters.action) if filters.action else Q(action__not_in=OWN_VIEWS))
    if filters.councils is not None:
        wanted.append(in_councils(filters.councils))
    if filters.since:
        wanted.append(Q(at__gte=local_start(filters.since)))
    if filters.until:
        wanted.append(Q(at__lt=local_start(filters.until + timedelta(days=1))))
    return Q(*wanted)


# -- pagination --------------------------------------------------------------------------------


def cursor(event: AuditEvent) -> str:
    """Where the next page starts: after this event's (at, id)."""
    micros = (event.at - EPOCH) // timedelta(microseconds=1)
    return f"{micros:x}-{event.id:x}"


def read_cursor(text: str) -> tuple[datetime, int] | None:
    """The (at, id) of a cursor, or None when it is not one this page made."""
    found = CURSOR.fullmatch(text)
    if not found:
        return None
    micros, event_id = int(found.group(1), 16), int(found.group(2), 16)
    if not (EARLIEST_MICROS <= micros <= LATEST_MICROS and 1 <= event_id <= MAX_EVENT_ID):
        return None
    return EPOCH + timedelta(microseconds=micros), event_id


async def events(where: Q, after: tuple[datetime, int] | None, limit: int) -> list[AuditEvent]:
    """One page, newest first; after a cursor, the events strictly older than it."""
    query = AuditEvent.filter(where)
    if after is not None:
        at, event_id = after
        query = query.filter(Q(at__lt=at) | Q(at=at, id__lt=event_id))
    return await query.order_by("-at", "-id").limit(limit)


# -- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One event as the table and the CSV show it."""

    at: datetime
    when: str
    who: str
    email: str
    action: str
    what: str
    client_id: int | None
    area: str
    detail: str

    def cells(self) -> list[str]:
        client = "" if self.client_id is None else str(self.client_id)
        return [self.when, self.who, self.email, self.what, client, self.area, self.detail]


def local_text(moment: datetime | str) -> str:
    """An instant as the log shows it: "2026-12-01 09:30:05", in the deployment's zone."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return clock.as_local(moment).strftime("%Y-%m-%d %H:%M:%S")


async def named(actor_ids: set[Any]) -> dict[Any, dict[str, Any]]:
    """The name and email of each practitioner (one query, none for no ids)."""
    if not actor_ids:
        return {}
    people = await Practitioner.filter(id__in=list(actor_ids)).values("id", "name", "email")
    return {p["id"]: p for p in people}


async def rows(found: list[AuditEvent]) -> list[Row]:
    """The events in words: two queries (who did them, and their areas) however many."""
    actors = await named({e.actor_id for e in found if e.actor_id is not None})
    area_ids = {e.area_id for e in found if e.area_id is not None}
    areas: dict[Any, Any] = {}
    if area_ids:
        areas = dict(await Area.filter(id__in=area_ids).values_list("id", "name"))
    made = []
    for event in found:
        name, email = who(event.action, actors.get(event.actor_id), event.actor_id)
        made.append(
            Row(
                at=event.at,
                when=local_text(event.at),
                who=name,
                email=email,
                action=event.action,
                what=label(event.action),
                client_id=event.client_id,
                area=str(areas.get(event.area_id, "")),
                detail=describe(event.detail),
            )
        )
    return made


@dataclass(frozen=True)
class Person:
    """Someone the events are by: how many, the first and the last."""

    who: str
    email: str
    events: int
    first: str
    last: str


async def people(where: Q) -> list[Person]:
    """Who the events are by, the most recent first (at most PAGE people), in two queries:
    the answer to "who viewed this client, and when" before the events themselves."""
    found = (
        await AuditEvent.filter(where)
        .annotate(events=Count("id"), first=Min("at"), last=Max("at"))
        .group_by("actor_id")
        .order_by("-last")
        .limit(PAGE)
        .values("actor_id", "events", "first", "last")
    )
    actors = await named({f["actor_id"] for f in found if f["actor_id"] is not None})
    made = []
    for f in found:
        # A client's events by nobody are Patchwork's own (retention removing them).
        name, email = who("job.", actors.get(f["actor_id"]), f["actor_id"])
        made.append(
            Person(name, email, int(f["events"]), local_text(f["first"]), local_text(f["last"]))
        )
    return made
