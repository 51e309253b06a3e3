"""Invitations: to Patchwork, and optionally straight onto a client's team."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.clients import Client
    from models.organisations import Organisation
    from models.practitioners import Practitioner

VALID_DAYS = 14


class Invitation(Model):
    """An emailed invitation. The token itself is never stored, only its SHA-256."""

    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="invitations_sent", null=True, on_delete=fields.SET_NULL
    )
    #: When set, accepting the invitation lands the new practitioner on this client's team.
    client: fields.ForeignKeyNullableRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="invitations", null=True, on_delete=fields.SET_NULL
    )
    #: The organisation the inviter named: the invitee's, unless their email's domain belongs
    #: to one (an inviter names their own; a state administrator may name any).
    organisation_id: int | None
    organisation: fields.ForeignKeyNullableRelation[Organisation] = fields.ForeignKeyField(
        "models.Organisation", related_name="invitations", null=True, on_delete=fields.SET_NULL
    )
    #: Administrator invitations (`python -m web invite-admin`) grant this role on signup.
    role = fields.CharField(max_length=20, default="practitioner")
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner",
        related_name="invitations_accepted",
        null=True,
        on_delete=fields.SET_NULL,
    )

    class Meta:
        table = "invitation"
        ordering = ["-created_at"]
        indexes = (("email",),)

    def __str__(self) -> str:
        return f"invitation {self.id}"
