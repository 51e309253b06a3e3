"""Retention that really deletes: a client whose team has been empty for RETENTION_MONTHS is
removed with everything about them — memberships, attentions (and who saw them), circle links,
join codes, the family's cards (and who agreed to each), search postings and notifications.
Invitations to their team stay, without the client. The audit trail keeps only ids: one
`client.removed` event per client, and one `job.retention` event per run with the counts.

The worker runs it once a day (`daily`); `python -m web retention --dry-run` prints the counts
without deleting anything.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.attentions import Attention, AttentionSeen
from models.audit import AuditEvent
from models.circles import CircleLink
from models.clients import Client
from models.family import FamilyCard, FamilyCardAgreement
from models.invitations import Invitation
from models.notifications import Notification, Outbox
from models.search import ClientNameWord
from models.teams import JoinCode, Membership, TeamEvent
from web.core import clock, jobs
from web.core.settings import Settings

#: Clients removed in one transaction: each batch is a handful of statements.
BATCH = 500
#: PostgreSQL advisory lock held while one worker decides whether retention is due today.
RETENTION_LOCK = 0x7E7E4710


@dataclass(frozen=True)
class Removed:
    """What one run removed (or, in a dry run, would remove)."""

    clients: int = 0
    memberships: int = 0
    attentions: int = 0
    circle_links: int = 0
    join_codes: int = 0
    family_cards: int = 0
    team_events: int = 0
    search_postings: int = 0
    notifications: int = 0
    invitations_unlinked: int = 0

    def __add__(self, other: Removed) -> Removed:
        mine, theirs = asdict(self), asdict(other)
        return Removed(**{key: mine[key] + theirs[key] for key in mine})


def months_before(moment: datetime, months: int) -> datetime:
    """The same instant `months` calendar months earlier (the 31st becomes the month's last)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


def cutoff(settings: Settings) -> datetime:
    """Teams empty since before this are past retention."""
    return months_before(clock.now(), settings.retention_months)


async def expired_ids(settings: Settings) -> list[int]:
    """Clients whose team has been empty since before the cutoff (and still is)."""
    current = Subquery(Membership.filter(ended_at__isnull=True).values("client_id"))
    ids = await (
        Client.filter(team_empty_since__lt=cutoff(settings))
        .exclude(id__in=current)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return list(ids)  # type: ignore[arg-type]


def _either_end(client_ids: list[int]) -> Q:
    return Q(client_a_id__in=client_ids) | Q(client_b_id__in=client_ids)


async def _counted(client_ids: list[int]) -> Removed:
    attentions = Attention.filter(client_id__in=client_ids)
    return Removed(
        clients=len(client_ids),
        memberships=await Membership.filter(client_id__in=client_ids).count(),
        attentions=await attentions.count(),
        circle_links=await CircleLink.filter(_either_end(client_ids)).count(),
        join_codes=await JoinCode.filter(client_id__in=client_ids).count(),
        family_cards=await FamilyCard.filter(client_id__in=client_ids).count(),
        team_events=await TeamEvent.filter(client_id__in=client_ids).count(),
        search_postings=await ClientNameWord.filter(client_id__in=client_ids).count(),
        notifications=await Notification.filter(client_id__in=client_ids).count(),
        invitations_unlinked=await Invitation.filter(client_id__in=client_ids).count(),
    )


async def _remove(client_ids: list[int]) -> Removed:
    """Delete one batch in one transaction, every table explicitly (not by cascade), so the
    counts are what was deleted."""
    async with in_transaction():
        removed = await _counted(client_ids)
        # Kept with each removal's audit event, so local administrators see their councils'.
        areas = dict(await Client.filter(id__in=client_ids).values_list("id", "area_id"))
        attention_ids = Subquery(Attention.filter(client_id__in=client_ids).values("id"))
        await AttentionSeen.filter(attention_id__in=attention_ids).delete()
        await Attention.filter(client_id__in=client_ids).delete()
        await Membership.filter(client_id__in=client_ids).delete()
        await CircleLink.filter(_either_end(client_ids)).delete()
        await JoinCode.filter(client_id__in=client_ids).delete()
        card_ids = Subquery(FamilyCard.filter(client_id__in=client_ids).values("id"))
        await FamilyCardAgreement.filter(card_id__in=card_ids).delete()
        # A card's email not sent yet never will be: its address and link go with the card.
        emails = Subquery(FamilyCard.filter(client_id__in=client_ids).values("outbox_id"))
        await Outbox.filter(id__in=emails).delete()
        await FamilyCard.filter(client_id__in=client_ids).delete()
        await TeamEvent.filter(client_id__in=client_ids).delete()
        await ClientNameWord.filter(client_id__in=client_ids).delete()
        await Notification.filter(client_id__in=client_ids).delete()
        await Invitation.filter(client_id__in=client_ids).update(client_id=None)
        await Client.filter(id__in=client_ids).delete()
        moment = clock.now()
        await AuditEvent.bulk_create(
            [
                AuditEvent(at=moment, action="client.removed", client_id=i, area_id=areas[i])
                for i in client_ids
            ]
        )
    return removed


async def apply(settings: Settings, *, dry_run: bool = False) -> Removed:
    """Remove every client past retention (or, with dry_run, only count them)."""
    ids = await expired_ids(settings)
    total = Removed()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        total += await (_counted(batch) if dry_run else _remove(batch))
    return total


def due(last_run: datetime | None) -> bool:
    """Once a calendar day in the deployment's zone."""
    return last_run is None or clock.as_local(last_run).date() < clock.today()


async def daily(settings: Settings) -> None:
    """The worker's daily run, once a day however many workers there are."""

    async def run() -> dict[str, int]:
        return asdict(await apply(settings))

    await jobs.once("job.retention", RETENTION_LOCK, due, run)
