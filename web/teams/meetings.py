"""Arranging a team meeting: an .ics invitation emailed through the outbox to every visible
member, organiser included. No names in it: it links to the team page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from web.core import access, audit, clock
from web.core.auth import me, signed_in
from web.core.budgets import PAGE, queries
from web.core.forms import form_date, form_int
from web.core.notify import email, enqueue
from web.core.render import page_or_block
from web.core.settings import Settings
from web.teams.team import local_today, mine, team_or_refusal

DURATIONS = (15, 30, 45, 60, 90, 120)
LINE_BREAK = re.compile("\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")
CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def ics_text(value: str) -> str:
    """Escape a value for an iCalendar TEXT property (RFC 5545, 3.3.11)."""
    # Every line break (CRLF, CR alone, LF, Unicode separators) becomes the escaped \n, so a
    # value can never end its line and start a property of its own; TEXT allows no other
    # control characters, so they are dropped.
    value = LINE_BREAK.sub("\n", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return CONTROL.sub("", value.replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def invitation(
    *,
    uid: str,
    start: datetime,
    minutes: int,
    place: str,
    agenda: str,
    organiser: str,
    attendees: list[str],
    team_url: str,
) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    description = (f"{agenda}\n\n" if agenda else "") + f"The team: {team_url}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Patchwork//Team meeting//EN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{clock.now().strftime(stamp)}",
        f"DTSTART:{start.astimezone(UTC).strftime(stamp)}",
        f"DTEND:{(start + timedelta(minutes=minutes)).astimezone(UTC).strftime(stamp)}",
        "SUMMARY:Patchwork team meeting",
        f"LOCATION:{ics_text(place)}",
        f"DESCRIPTION:{ics_text(description)}",
        f"URL:{team_url}",
        f"ORGANIZER:mailto:{organiser}",
        *(
            # No RSVP: replies would go to Patchwork's address, which nobody reads.
            f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{a}"
            for a in attendees
        ),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"


def read_meeting(
    form: dict[str, str], today: date
) -> tuple[tuple[date, time, int], dict[str, str]]:
    errors: dict[str, str] = {}
    # form_date keeps the year sane: a meeting in 9999 would overflow its end time.
    found = form_date(form["date"])
    day = found or today
    if found is None:
        errors["date"] = "Enter the meeting date"
    elif found < today:
        errors["date"] = "The meeting date must be today or later"
    try:
        at = time.fromisoformat(form["time"])
    except ValueError:
        at, errors["time"] = time(9), "Enter the meeting time, like 14:30"
    minutes = form_int(form["minutes"], low=1, high=max(DURATIONS)) or 0
    if minutes not in DURATIONS:
        errors["minutes"] = "Choose how long the meeting is"
    if not form["place"]:
        errors["place"] = "Enter where the meeting is, or a link to join it"
    elif len(form["place"]) > 200:
        errors["place"] = "The place must be 200 characters or fewer"
    if len(form["agenda"]) > 200:
        errors["agenda"] = "The agenda must be 200 characters or fewer"
    return (day, at, minutes), errors


@queries(PAGE)
@signed_in
async def meeting_form(request: Request) -> Response:
    """Arrange a team meeting: when, where, what about."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    today = local_today(request.app.state.settings)
    form = {
        "date": (today + timedelta(days=1)).isoformat(),
        "time": "10:00",
        "minutes": "60",
        "place": "",
        "agenda": "",
    }
    return page_or_block(
        request,
        "teams/meeting.html",
        {
            "client": client,
            "form": form,
            "errors": {},
            "durations": DURATIONS,
            "invited": len(team),
            "tab": "team",
            "discreet": mine(request, team).discreet,
        },
    )


@queries(8)
@signed_in
async def arrange_meeting(request: Request) -> Response:
    """Email the .ics invitation to every visible member, organiser included."""
    found = await team_or_refusal(request)
    if isinstance(found, Response):
        return found
    client, team = found
    settings: Settings = request.app.state.settings
    raw = await request.form()
    form = {k: str(raw.get(k, "")).strip() for k in ("date", "time", "minutes", "place", "agenda")}
    when, errors = read_meeting(form, local_today(settings))
    if errors:
        return page_or_block(
            request,
            "teams/meeting.html",
            {
                "client": client,
                "form": form,
                "errors": errors,
                "durations": DURATIONS,
                "invited": len(team),
                "tab": "team",
                "discreet": mine(request, team).discreet,
            },
            status_code=422,
        )
    zone = ZoneInfo(settings.time_zone)
    day, at, minutes = when
    start = datetime.combine(day, at, zone)
    team_url = f"{settings.base_url}/clients/{client.id}"
    # Patchwork organises every meeting, whoever arranged it: a discreet organiser gets a
    # copy but appears in nobody's invitation, and a visible one's invitation looks the same.
    organiser = me(request)
    attendees = [m.practitioner.email for m in team if not m.discreet]
    # Discreet members get their own copy (they see the team), listed in nobody's.
    unseen = [p.email for p in await access.discreet_members(client.id)]
    recipients = list(dict.fromkeys([*attendees, organiser.email, *unseen]))
    organiser_address = parseaddr(settings.mail_from)[1]
    ics = invitation(
        uid=f"{uuid.uuid4()}@{settings.rp_id}",
        start=start,
        minutes=minutes,
        place=form["place"],
        agenda=form["agenda"],
        organiser=organiser_address,
        attendees=attendees,
        team_url=team_url,
    )
    local = start.strftime("%A %-d %B %Y, %-I:%M %p").replace("AM", "am").replace("PM", "pm")
    body = (
        "You are invited to a team meeting about one of your clients in Patchwork.\n\n"
        f"When: {local} ({settings.time_zone}), {minutes} minutes\n"
        f"Where: {form['place']}\n"
        + (f"Agenda: {form['agenda']}\n" if form["agenda"] else "")
        + f"\nSign in to see the team: {team_url}\n\nThe invitation is attached (meeting.ics).\n"
    )
    attached = {"filename": "meeting.ics", "content_type": "text/calendar", "content": ics}
    async with in_transaction():
        await enqueue(
            [
                email(address, "Invitation: Patchwork team meeting", body, [attached])
                for address in recipients
            ]
        )
        await audit.record(
            request,
            "team.meeting",
            client_id=client.id,
            area_id=client.area_id,
            invited=len(recipients),
        )
    return RedirectResponse(f"/clients/{client.id}?done=meeting", status_code=303)


routes = [
    Route("/clients/{client_id:int}/meeting", meeting_form, methods=["GET"]),
    Route("/clients/{client_id:int}/meeting", arrange_meeting, methods=["POST"]),
]
