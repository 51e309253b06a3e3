"""A team's History: who was involved when, attentions raised and resolved, and what else
the team did (the lead professional, the family's card), as a member may see it.

Someone discreet is never named, and resolutions never name anyone, so a discreet member's
read like anyone's. What TeamEvent records was only ever done by visible members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from tortoise import connections

from models.attentions import Attention
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import clock, tables
from web.core.access import UNNAMED, attention_raiser, joined_at


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    who: str
    text: str


@dataclass(frozen=True)
class TeamEventRow:
    """A TeamEvent with the names of who did it and who it was about (None: no longer held)."""

    kind: str
    at: datetime
    actor: str | None
    subject: str | None
    #: The family's card it was about: how it was given ("email", "qr") and when ("" and None
    #: for other events, or a card since removed).
    card_method: str = ""
    card_shared_at: datetime | None = None
    card_until: datetime | None = None


LEFT_BECAUSE = {
    "case_closed": "case closed",
    "transferred": "transferred",
    "lapsed": "involvement not confirmed",
    "other": "other reason",
}

#: A client's attentions (with who raised them) and team events, in one statement: the two
#: halves share one column list, each filling the other's columns with NULL.
EVENTS_SQL = (
    "SELECT {attention}, NULL AS e_kind, NULL AS e_at, NULL AS e_actor, NULL AS e_subject, "
    "NULL AS e_method, NULL AS e_shared_at, NULL AS e_until "
    "FROM attention a LEFT JOIN practitioner r ON r.id = a.raised_by_id "
    "WHERE a.client_id = {client} "
    "UNION ALL SELECT {nothing}, e.kind, e.at, ea.name, es.name, fc.method, fc.created_at, "
    "fc.expires_at "
    "FROM team_event e "
    "LEFT JOIN practitioner ea ON ea.id = e.actor_id "
    "LEFT JOIN practitioner es ON es.id = e.subject_id "
    "LEFT JOIN family_card fc ON fc.id = e.card_id WHERE e.client_id = {client}"
)


@cache
def _attention_columns() -> tuple[str, str]:
    """The attention half's columns, and as many NULLs named alike for the other half."""
    real = tables.columns((Attention, "a"), (Practitioner, "r"))
    nothing = ", ".join("NULL AS " + column.split(" AS ", 1)[1] for column in real.split(", "))
    return real, nothing


async def attentions_and_events(client_id: int) -> tuple[list[Attention], list[TeamEventRow]]:
    """The client's attentions, who raised each loaded, and its team events: one statement."""
    real, nothing = _attention_columns()
    statement = EVENTS_SQL.format(attention=real, nothing=nothing, client=int(client_id))
    attentions, events = [], []
    for row in await connections.get("default").execute_query_dict(statement):
        if row["e_kind"] is None:
            attention = tables.as_model(Attention, row, "a")
            if row["r__id"] is not None:
                attention.raised_by = tables.as_model(Practitioner, row, "r")
            attentions.append(attention)
        else:
            at = tables.moment(row["e_at"])
            assert at is not None  # every team event has its moment
            events.append(
                TeamEventRow(
                    row["e_kind"], at, row["e_actor"], row["e_subject"], row["e_method"] or "",
                    tables.moment(row["e_shared_at"]), tables.moment(row["e_until"]),
                )
            )  # fmt: skip
    return attentions, events


def _team_event(e: TeamEventRow) -> Event:
    """How History words a team event."""
    actor, subject = e.actor or UNNAMED, e.subject or "a former member"
    if e.kind == "lead_named":
        if e.actor is not None and e.actor == e.subject:
            return Event(e.at, e.kind, actor, "agreed to be the lead professional")
        return Event(e.at, e.kind, actor, f"recorded {subject} as the lead professional")
    if e.kind == "lead_gone" and e.actor is None:
        return Event(e.at, e.kind, subject, "is no longer the lead professional: the team has none")
    if e.kind == "lead_gone":
        return Event(e.at, e.kind, actor, f"recorded that {subject} is no longer the lead")
    card = _card(e)
    if e.kind == "card_opened":
        return Event(e.at, e.kind, "The family", f"opened the card showing their team{card}")
    if e.kind == "card_withdrawn":
        return Event(e.at, e.kind, actor, f"withdrew the family's card{card}")
    how = {"email": " by email", "qr": " shown as a QR code"}.get(e.card_method, "")
    until = f", working until {_day(e.card_until)}" if e.card_until else ""
    return Event(e.at, e.kind, actor, f"shared the team with the family (a card{how}{until})")


def _card(e: TeamEventRow) -> str:
    """Which card, without whom it went to: " (emailed on 5 December, working until 4
    January)"."""
    if e.card_shared_at is None:
        return ""
    how = {"email": "emailed", "qr": "shown as a QR code"}.get(e.card_method, "shared")
    until = f", working until {_day(e.card_until)}" if e.card_until else ""
    return f" ({how} on {_day(e.card_shared_at)}{until})"


def _day(moment: datetime) -> str:
    local = clock.as_local(moment)
    return f"{local.day} {local:%B}"


def history_events(
    viewer: Practitioner,
    memberships: list[Membership],
    attentions: list[Attention],
    team_events: Sequence[TeamEventRow] = (),
) -> list[Event]:
    """The team's history as `viewer` may see it, newest first."""
    visible_ids = {m.practitioner_id for m in memberships}
    events: list[Event] = []
    for m in memberships:
        organisation = m.practitioner.organisation.name
        events.append(
            Event(
                joined_at(viewer, m),
                "joined",
                m.practitioner.name,
                f"joined as {m.role}, {organisation}",
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
        raiser = attention_raiser(viewer, a, visible_ids)
        events.append(Event(a.created_at, "attention", raiser, f"raised an attention: {a.text}"))
        if a.resolved_at:
            events.append(Event(a.resolved_at, "resolved", UNNAMED, "resolved an attention"))
    events += [_team_event(e) for e in team_events]
    return sorted(events, key=lambda e: e.at, reverse=True)
