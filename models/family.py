"""The family's card: a link a member shares, with consent, showing who works with a client.

A card holds no address and no link: the token is stored only as its SHA-256, the email it
went to is used once and forgotten, and the recipient is a name only ("Jade (mother)").
Who it lists is worked out afresh on every view (web/core/family.py), so a member who opts
out, goes discreet or leaves is off every card at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.clients import Client
    from models.practitioners import Practitioner

#: How a card reached the family: an emailed link, or a QR code shown on a visit.
METHODS = ("email", "qr")
#: Whether a member is listed on a family's cards: always, only once they agree for that card,
#: or never. A practitioner's default (profile) and each membership's choice are one of these,
#: or "" for "as my profile says" (and, in the profile, "as my service usually does").
LISTINGS = ("list", "ask", "never")


class FamilyCard(Model):
    """A card shared with a client or their carer, valid until it expires or is withdrawn."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    client_id: int
    created_by_id: int | None
    withdrawn_by_id: int | None
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="family_cards", on_delete=fields.CASCADE
    )
    #: Who it was given to, a name only: "Jade (mother)". Shown to the team, never the family.
    recipient = fields.CharField(max_length=60)
    #: One of METHODS.
    method = fields.CharField(max_length=5)
    #: The member who shared it (always a visible member when they did).
    created_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="family_cards", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)
    #: Who withdrew it, only where the team may know (a withdrawal may be unnamed).
    withdrawn_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="family_cards_withdrawn", null=True,
        on_delete=fields.SET_NULL,
    )  # fmt: skip
    #: The last day (in TIME_ZONE) the card was opened: its opening is recorded once a day.
    opened_on = fields.DateField(null=True)
    #: The outbox row of its email until that is sent or given up, then emptied and forgotten.
    outbox_id = fields.BigIntField(null=True)

    agreements: fields.ReverseRelation[FamilyCardAgreement]

    class Meta:
        table = "family_card"
        ordering = ["-created_at", "-id"]
        indexes = (("client_id", "expires_at"), ("outbox_id",))

    def __str__(self) -> str:
        return f"family card {self.id}"


class FamilyCardAgreement(Model):
    """A member who asks each time agreed to be listed on this card (the sharer, by sharing)."""

    id = fields.IntField(primary_key=True)
    card_id: int
    practitioner_id: int
    card: fields.ForeignKeyRelation[FamilyCard] = fields.ForeignKeyField(
        "models.FamilyCard", related_name="agreements", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="family_card_agreements", on_delete=fields.CASCADE
    )
    at = fields.DatetimeField()

    class Meta:
        table = "family_card_agreement"
        unique_together = (("card", "practitioner"),)

    def __str__(self) -> str:
        return f"family card agreement {self.id}"
