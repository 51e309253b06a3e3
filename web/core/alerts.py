"""Alerts: one call tells the right people through the channels each of them chose.

In-app notifications are always recorded (they are the history a digest summarises); email
and web push go out immediately, in the 07:00 digest, or not at all, per practitioner. Nothing
that leaves Patchwork names a client or a practitioner: it says what kind of thing happened
and where to look, and the practitioner signs in to see who.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.expressions import Q

from models.notifications import Notification, Outbox, PushSubscription
from models.practitioners import Practitioner
from models.teams import Membership
from web.core import access, ratelimit
from web.core.clock import now
from web.core.notify import email, enqueue, enqueue_email
from web.core.settings import Settings

#: What each kind of alert says, without names.
SAYS = {
    "joined": "Someone has joined the team around one of your clients.",
    "left": "Someone has left the team around one of your clients.",
    "attention_raised": "An attention has been raised on one of your clients' teams.",
    "attention_resolved": "An attention has been resolved on one of your clients' teams.",
    "circle_linked": "A client of yours has been linked to another client's circle.",
    "circle_unlinked": "A link in one of your clients' circles has been removed.",
    "invited_to_team": "A colleague has invited you to join a client's team.",
    "checkin_due": "Please confirm you are still working with one of your clients.",
    "membership_lapsed": "A team member has not confirmed they are still involved.",
    "lead_named": "A lead professional has been named on one of your clients' teams.",
    "lead_gone": "One of your clients' teams no longer has a lead professional.",
    "lead_left": "The lead professional has left the team around one of your clients.",
    "card_shared": "A member has shared one of your clients' teams with the family.",
    "card_asked": "A member has shared one of your clients' teams with the family: will you "
    "be on the card?",
    "card_withdrawn": "A family's card for one of your clients' teams has been withdrawn.",
}
#: What a push notification shows on a lock screen: nothing more specific than this.
LOCK_SCREEN = "A team you're on has changed"
DIGEST_HOUR = 7


async def alert(
    settings: Settings,
    recipients: Iterable[Practitioner],
    kind: str,
    *,
    client_id: int | None,
    actor_id: int | None,
    url: str,
) -> None:
    """Record an in-app notification for each recipient, and queue their immediate email and
    push. Call inside the transaction of the change."""
    people = [p for p in recipients if p.active]
    if not people:
        return
    moment = now()
    await Notification.bulk_create(
        [
            Notification(
                practitioner_id=p.id,
                kind=kind,
                client_id=client_id,
                actor_id=actor_id,
                url=url,
                # Only what a digest will summarise waits for one.
                digested_at=None if "digest" in (p.notify_email, p.notify_push) else moment,
            )
            for p in people
        ]
    )
    await enqueue(
        [
            email(
                person.email,
                "Patchwork: " + SAYS[kind].rstrip("."),
                f"{SAYS[kind]}\n\nSign in to Patchwork to see who: {settings.base_url}{url}\n\n"
                f"{FOOTER}",
            )
            for person in people
            if person.notify_email == "immediate"
        ]
    )
    await queue_push([p.id for p in people if p.notify_push == "immediate"], kind)


FOOTER = "You can choose how Patchwork alerts you in your profile."


async def queue_push(practitioner_ids: list[int], kind: str, count: int = 1) -> None:
    """One push per subscription: the kind of event and where to go, under 200 bytes."""
    if not practitioner_ids:
        return
    subscriptions = await PushSubscription.filter(practitioner_id__in=practitioner_ids)
    payload = push_payload(kind, count)
    await enqueue(
        [
            Outbox(channel="push", recipient=str(s.id), body=payload, next_attempt_at=now())
            for s in subscriptions
        ]
    )


def push_payload(kind: str, count: int = 1) -> str:
    payload = json.dumps(
        {"kind": kind, "count": count, "title": LOCK_SCREEN, "url": "/notifications"},
        separators=(",", ":"),
    )
    assert len(payload.encode()) <= 200
    return payload


async def tell_team(
    settings: Settings,
    client_id: int,
    actor: Practitioner,
    kind: str,
    url: str,
    *,
    named: bool = True,
    already_told: Iterable[int] = (),
) -> set[int]:
    """Alert every current member of a client's team but the actor and `already_told`
    (discreet members too: they get alerts, they just are not seen). Returns who was told.

    With `named=False` the notification does not record who acted, so nobody can be shown
    it: for things the team never sees attributed (circle links, resolutions, unnamed
    attentions), whoever did them, so a discreet member's action reads like anyone's."""
    members = (
        await Membership.filter(access.current(), client_id=client_id)
        .exclude(practitioner_id__in=[actor.id, *already_told])
        .select_related("practitioner")
    )
    await alert(
        settings,
        [m.practitioner for m in members],
        kind,
        client_id=client_id,
        actor_id=actor.id if named else None,
        url=url,
    )
    return {m.practitioner_id for m in members}  # type: ignore[attr-defined]


async def tell_team_once(
    settings: Settings,
    client_id: int,
    actor: Practitioner,
    kind: str,
    url: str,
    *,
    topic: str,
    named: bool = True,
    already_told: Iterable[int] = (),
) -> set[int]:
    """`tell_team`, but at most once an hour for one practitioner's changes of one `topic`
    ("membership": joins, leaves and becoming visible; "circle": links made and removed) to
    one team, so toggling over and over floods nobody; the team's pages show every change."""
    if not await ratelimit.hit(f"team-alert:{topic}:{actor.id}:{client_id}", 1):
        return set()
    return await tell_team(
        settings, client_id, actor, kind, url, named=named, already_told=already_told
    )


# -- the 07:00 digest -------------------------------------------------------------------------


def digest_due(settings: Settings, last: datetime | None, moment: datetime) -> bool:
    """True once a day, at or after 07:00 in the deployment's time zone."""
    local = moment.astimezone(ZoneInfo(settings.time_zone))
    today_at_seven = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return local >= today_at_seven and (last is None or last < today_at_seven)


async def send_digests(settings: Settings) -> int:
    """One email (and one push) per practitioner who chose the digest and has something new.
    Never an empty one. Returns how many practitioners were sent a digest."""
    waiting = (
        await Notification.filter(digested_at__isnull=True)
        .filter(Q(practitioner__notify_email="digest") | Q(practitioner__notify_push="digest"))
        .select_related("practitioner")
    )
    by_person: dict[int, list[Notification]] = {}
    for notification in waiting:
        by_person.setdefault(notification.practitioner_id, []).append(notification)  # type: ignore[attr-defined]
    moment = now()
    for items in by_person.values():
        person = items[0].practitioner
        kinds = Counter(n.kind for n in items)
        if person.notify_email == "digest":
            lines = "\n".join(f"- {count} × {SAYS[kind]}" for kind, count in kinds.items())
            await enqueue_email(
                person.email,
                f"Patchwork: {len(items)} update{'s' if len(items) != 1 else ''} "
                "on your clients' teams",
                f"Since your last digest:\n\n{lines}\n\nSign in to see who: "
                f"{settings.base_url}/notifications\n\n{FOOTER}",
            )
        if person.notify_push == "digest":
            await queue_push([person.id], "digest", len(items))
        await Notification.filter(id__in=[n.id for n in items]).update(digested_at=moment)
    return len(by_person)
