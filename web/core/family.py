"""The family's card: who it lists, reading one by its token, and what administrators count.

A card lists, afresh on every view, each current member the team can see who agreed to be
listed: never someone discreet, never anyone from a sensitive organisation, never someone
deactivated. Each member is listed (`list`), asked for each card (`ask`: listed once they
agree to that card) or never listed (`never`), by their choice for the team, else their
profile's, else their service's usual way: police and child protection ask each time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.functions import Count

from models.family import FamilyCard, FamilyCardAgreement
from models.notifications import Outbox
from models.teams import Membership
from web.core import clock, tables
from web.core.settings import Settings

#: How long a card works unless the member chooses otherwise, and the choices offered.
VALID_DAYS = 30
DAY_CHOICES = (7, 14, 30)
#: Services whose people are asked for each card unless they choose otherwise: being listed
#: for a family can matter more there (a parent in dispute with child protection, say).
ASKING_SERVICES = ("Police", "Child Protection")
#: Opening cards, per client address and per card an hour: far above a family's use, and it
#: keeps anyone from trying links in bulk.
PER_ADDRESS_PER_HOUR = 120
PER_CARD_PER_HOUR = 60
#: What every answer showing a card (or the page instead of one) carries.
HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}
#: The number to call in an emergency, by deployment.
EMERGENCY = {"AU-VIC": "000", "UK-PILOTS": "999"}


def service_default(service_type: str) -> str:
    """What a practitioner of this service gets who has not chosen."""
    return "ask" if service_type in ASKING_SERVICES else "list"


def listing(for_team: str, in_profile: str, service_type: str) -> str:
    """Whether a member is listed on this team's cards: their team choice, else their
    profile's, else their service's default (each choice "" for "not chosen")."""
    return for_team or in_profile or service_default(service_type)


def never_shown(membership: Membership) -> bool:
    """Members no card ever shows, whatever they chose: discreet, sensitive or inactive."""
    practitioner = membership.practitioner
    return (
        membership.discreet
        or membership.ended_at is not None
        or practitioner.organisation.sensitive
        or not practitioner.active
    )


def listing_of(membership: Membership) -> str:
    """`listing` for a team member whose practitioner and organisation are loaded."""
    practitioner = membership.practitioner
    return listing(
        membership.family_listing,
        practitioner.family_listing,
        practitioner.organisation.service_type,
    )


def first_name(name: str) -> str:
    """What the family sees of a colleague's name: the first word only."""
    words = name.split()
    return words[0] if words else ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def card_token(secret_key: str, practitioner_id: int, client_id: int, attempt: str) -> str:
    """A card's token (43 characters, 256 bits): keyed by a key of its own made from the
    server's secret, over the sharer, the client and the random `attempt` the share form
    carries (22 characters, 128 bits). The same form sent twice (a reload of the QR code's
    page) makes the same token, so it finds its card instead of making another; the attempt
    alone gives nothing away, and no other keyed hash the app makes (CSRF tokens: "csrf:")
    can be one of these."""
    key = hmac.new(secret_key.encode(), b"patchwork family-card key", hashlib.sha256).digest()
    message = f"family-card:{practitioner_id}:{client_id}:{attempt}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def shown_as(membership: Membership) -> str:
    """How the cards treat a member: never shown ("inactive": no longer on Patchwork, or
    "hidden": discreet, sensitive or gone), else `listing_of`: "list", "ask" or "never"."""
    if not membership.practitioner.active:
        return "inactive"
    return "hidden" if never_shown(membership) else listing_of(membership)


async def off_cards(practitioner_id: int, client_ids: Any) -> None:
    """Take a member now never listed off every card of these clients (ids, or a subquery of
    them): should they choose to be listed again, each card asks them afresh."""
    cards = Subquery(FamilyCard.filter(client_id__in=client_ids).values("id"))
    await FamilyCardAgreement.filter(practitioner_id=practitioner_id, card_id__in=cards).delete()


async def hold_visible(membership: Membership) -> bool:
    """Inside a transaction: whether this membership is still current and visible, its row
    then held to the end of the transaction (an update that changes nothing takes its lock),
    so the member cannot leave or go discreet in the middle of what they are doing: that
    waits, and comes after it."""
    return bool(
        await Membership.filter(id=membership.id, ended_at__isnull=True, discreet=False).update(
            discreet=False
        )
    )


def long_date(moment: datetime) -> str:
    """ "2 June 2026" in the deployment's zone: a card lasts days, not minutes."""
    local = clock.as_local(moment)
    return f"{local.day} {local:%B %Y}"


def current_cards() -> Q:
    return Q(withdrawn_at__isnull=True, expires_at__gt=clock.now())


# -- reading a card --------------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One person on a card, as the family sees them."""

    first_name: str
    role: str
    organisation: str
    phone: str
    duty_phone: str
    lead: bool


@dataclass
class Card:
    """A current card, with the people it lists now (the lead, when listed, first)."""

    id: int
    client_id: int
    area_id: int
    client_first_name: str
    #: Who it was given to: for the team's preview only, never shown to the family.
    recipient: str
    expires_at: datetime
    opened_on: date | None
    people: list[Listed] = field(default_factory=list)

    @property
    def main_contact(self) -> Listed | None:
        return next((p for p in self.people if p.lead), None)


#: A card, its client and each member who may be on it (current, visible, active, from no
#: sensitive organisation: nobody else's row leaves the database), whether each agreed to
#: this card: one statement.
CARD_SQL = (
    "SELECT f.id AS card_id, f.client_id, f.recipient, f.expires_at, f.withdrawn_at, f.opened_on, "
    "c.given_name, c.area_id, m.role, m.lead, m.family_listing AS for_team, p.name, p.phone, "
    "p.mobile, p.family_listing AS in_profile, o.name AS organisation, o.service_type, "
    "o.duty_phone, EXISTS (SELECT 1 FROM family_card_agreement a WHERE a.card_id = f.id "
    "AND a.practitioner_id = p.id) AS agreed "
    "FROM family_card f JOIN client c ON c.id = f.client_id "
    "LEFT JOIN (membership m JOIN practitioner p ON p.id = m.practitioner_id AND p.active = true "
    "JOIN organisation o ON o.id = p.organisation_id AND o.sensitive = false) "
    "ON m.client_id = f.client_id AND m.ended_at IS NULL AND m.discreet = false "
    "WHERE {where} ORDER BY m.started_at, m.id"
)


async def _read(where: str) -> Card | None:
    rows = await connections.get("default").execute_query_dict(CARD_SQL.format(where=where))
    if not rows:
        return None
    first = rows[0]
    opened, expires = first["opened_on"], tables.moment(first["expires_at"])
    assert expires is not None  # a card always has its end
    card = Card(
        id=first["card_id"],
        client_id=first["client_id"],
        area_id=first["area_id"],
        client_first_name=first_name(first["given_name"]),
        recipient=first["recipient"],
        expires_at=expires,
        opened_on=date.fromisoformat(opened) if isinstance(opened, str) else opened,
    )
    if first["withdrawn_at"] is not None or card.expires_at <= clock.now():
        return None
    for row in rows:
        if row["name"] is None:
            continue  # the card's row when nobody may be on it
        how = listing(row["for_team"], row["in_profile"], row["service_type"])
        if how == "list" or (how == "ask" and row["agreed"]):
            card.people.append(
                Listed(
                    first_name=first_name(row["name"]),
                    role=row["role"],
                    organisation=row["organisation"],
                    # Both are work numbers here: the desk phone first, else the work mobile.
                    phone=row["phone"] or row["mobile"],
                    duty_phone=row["duty_phone"],
                    lead=bool(row["lead"]),
                )
            )
    card.people.sort(key=lambda p: not p.lead)
    return card


async def card_for_token(token: str) -> Card | None:
    """The current card this token opens, or None (unknown, expired or withdrawn alike)."""
    # A hex digest: inlined, the statement needs no parameters in either dialect.
    return await _read(f"f.token_hash = '{token_hash(token)}'")


async def card_by_id(card_id: int, client_id: int) -> Card | None:
    """A current card of this client, for a member's preview."""
    return await _read(f"f.id = {int(card_id)} AND f.client_id = {int(client_id)}")


async def mark_opened(card: Card) -> bool:
    """Record the card as opened today; True only for its first opening of the day (one
    statement, so two openings at once record it once)."""
    today = clock.today()
    if card.opened_on == today:
        return False
    marked = await FamilyCard.filter(
        Q(opened_on__isnull=True) | Q(opened_on__lt=today), id=card.id
    ).update(opened_on=today)
    return bool(marked)


def card_values(settings: Settings, card: Card, preview: bool = False) -> dict[str, Any]:
    """What templates/family/card.html shows (`preview`: a member's look at it)."""
    return {
        "card": card,
        "until": long_date(card.expires_at),
        "emergency": EMERGENCY.get(settings.deployment, EMERGENCY["AU-VIC"]),
        "preview": preview,
    }


# -- forgetting the address, counting for administrators ------------------------------------


async def forget_sent_emails(outbox_ids: Collection[int] | None) -> int:
    """Empty the outbox rows of cards' emails among `outbox_ids` (None: every one) once each
    is sent or given up, so neither the family's address nor their link stays. The worker
    calls it after each email it tried, and `tidy` for all."""
    done = Q(sent_at__isnull=False) | Q(failed_at__isnull=False)
    if outbox_ids is None:
        cards = Subquery(FamilyCard.filter(outbox_id__isnull=False).values("outbox_id"))
        return await Outbox.filter(done, ~Q(recipient=""), id__in=cards).update(
            recipient="", subject="", body="", last_error=""
        )
    ids = [int(i) for i in outbox_ids]
    if not ids:
        return 0
    cards = Subquery(FamilyCard.filter(outbox_id__in=ids).values("outbox_id"))
    # An SMTP error can quote the address back: last_error goes too.
    return await Outbox.filter(done, Q(id__in=ids) & Q(id__in=cards)).update(
        recipient="", subject="", body="", last_error=""
    )


async def current_cards_by_council(council_ids: Collection[int] | None) -> dict[int, int]:
    """How many cards are current (neither expired nor withdrawn) for clients of each council
    among `council_ids` (None: every council). Counts only: never who, nor what they show."""
    query = FamilyCard.filter(current_cards())
    if council_ids is not None:
        query = query.filter(client__area_id__in=list(council_ids))
    rows = await (
        query.annotate(cards=Count("id"))
        .group_by("client__area_id")
        .values_list("client__area_id", "cards")
    )
    return {int(area): int(count) for area, count in rows}
