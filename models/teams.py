"""Memberships: who is (and was) on a client's team."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.clients import Client
    from models.family import FamilyCard
    from models.practitioners import Practitioner

END_REASONS = ("case_closed", "transferred", "lapsed", "other")
#: What TeamEvent records: the lead professional named, or gone with their membership, and the
#: family's card shared, opened (once a day) and withdrawn.
TEAM_EVENTS = ("lead_named", "lead_gone", "card_shared", "card_opened", "card_withdrawn")


class Membership(Model):
    """One practitioner's involvement with one client. Ended memberships stay as history.

    The database allows one *current* membership (ended_at null) per client and
    practitioner: a partial unique index created in the migrations.
    """

    id = fields.IntField(primary_key=True)
    client_id: int
    practitioner_id: int
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="memberships", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="memberships", on_delete=fields.CASCADE
    )
    #: Role in this team, e.g. "Maternal & Child Health Nurse" (pre-filled from the job title).
    role = fields.CharField(max_length=120)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    #: One of END_REASONS when ended.
    end_reason = fields.CharField(max_length=20, default="")
    last_contact_on = fields.DateField(null=True)
    #: Discreet members see the team but appear nowhere to anyone else.
    discreet = fields.BooleanField(default=False)
    #: Since when the team has seen this member, null while discreet.
    #: (The team's view starts here: nothing from before is attributed to them.)
    visible_since = fields.DatetimeField(null=True)
    #: Last time the practitioner confirmed they are still involved (check-ins).
    last_confirmed_at = fields.DatetimeField()
    #: When the latest check-in request was sent, so it is sent once per cycle.
    checkin_requested_at = fields.DatetimeField(null=True)
    #: When the team was told this involvement is no longer confirmed (once per lapse).
    lapse_alerted_at = fields.DatetimeField(null=True)
    #: The team's lead professional, the family's main contact (a partial unique index keeps
    #: one current lead per client). Never a discreet membership. Ends with the membership.
    lead = fields.BooleanField(default=False, db_default=False)
    #: Whether the family's cards for this client list them (models.family.LISTINGS), or ""
    #: for as their profile says. "never" takes them off every current card at once.
    family_listing = fields.CharField(max_length=5, default="", db_default="")

    class Meta:
        table = "membership"
        ordering = ["started_at", "id"]
        indexes = (("practitioner_id", "ended_at"), ("client_id", "ended_at"))

    def __str__(self) -> str:
        return f"membership {self.id}"

    @property
    def current(self) -> bool:
        return self.ended_at is None


class JoinCode(Model):
    """A join code a member shows as a QR code, stored only as its token's SHA-256.

    The link holds nothing but a random token, so it says nothing about the client or about
    who showed it, and it is worthless once expired (10 minutes).
    """

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    client_id: int
    created_by_id: int
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="join_codes", on_delete=fields.CASCADE
    )
    #: The member who showed it (never shown to anyone: they may be discreet).
    created_by: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="join_codes", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()

    class Meta:
        table = "join_code"

    def __str__(self) -> str:
        return f"join code {self.id}"


class TeamEvent(Model):
    """Something History shows besides joins, leaves and attentions (TEAM_EVENTS).

    Only what a visible member did is recorded with their name: a discreet member can neither
    name a lead nor share the family's card.
    """

    id = fields.IntField(primary_key=True)
    client_id: int
    actor_id: int | None
    subject_id: int | None
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="team_events", on_delete=fields.CASCADE
    )
    #: One of TEAM_EVENTS.
    kind = fields.CharField(max_length=20)
    #: Who did it (a visible member), or null for the family opening their card.
    actor: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="team_events", null=True, on_delete=fields.SET_NULL
    )
    #: Who it was about: the lead named, or the lead who left.
    subject: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="team_events_about", null=True,
        on_delete=fields.SET_NULL,
    )  # fmt: skip
    card_id: int | None
    #: The family's card it was about (shared, opened, withdrawn), so History tells cards apart.
    card: fields.ForeignKeyNullableRelation[FamilyCard] = fields.ForeignKeyField(
        "models.FamilyCard", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    at = fields.DatetimeField()

    class Meta:
        table = "team_event"
        indexes = (("client_id", "at"),)

    def __str__(self) -> str:
        return f"team event {self.id}"
