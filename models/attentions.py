"""Attentions: short flags to a team that there is something to talk about."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.clients import Client
    from models.practitioners import Practitioner

CATEGORIES = ("concern", "information", "meeting")
MAX_LENGTH = 500


class Attention(Model):
    """A flag raised on a client's team. Not a message thread and not a place for case notes."""

    id = fields.IntField(primary_key=True)
    client_id: int
    raised_by_id: int | None
    resolved_by_id: int | None
    client: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="attentions", on_delete=fields.CASCADE
    )
    raised_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner",
        related_name="attentions_raised",
        null=True,
        on_delete=fields.SET_NULL,
    )
    text = fields.CharField(max_length=MAX_LENGTH)
    #: One of CATEGORIES, or empty.
    category = fields.CharField(max_length=20, default="")
    #: Whether the team sees who raised it.
    #: (Anyone may raise one unnamed and a discreet member's always is: see web/core/access.py.)
    named = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    resolved_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner",
        related_name="attentions_resolved",
        null=True,
        on_delete=fields.SET_NULL,
    )

    seen: fields.ReverseRelation[AttentionSeen]

    class Meta:
        table = "attention"
        ordering = ["-created_at", "-id"]
        indexes = (("client_id", "resolved_at"),)

    def __str__(self) -> str:
        return f"attention {self.id}"


class AttentionSeen(Model):
    """A member has seen (and possibly acknowledged) an attention."""

    id = fields.IntField(primary_key=True)
    attention_id: int
    practitioner_id: int
    attention: fields.ForeignKeyRelation[Attention] = fields.ForeignKeyField(
        "models.Attention", related_name="seen", on_delete=fields.CASCADE
    )
    practitioner: fields.ForeignKeyRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="attentions_seen", on_delete=fields.CASCADE
    )
    seen_at = fields.DatetimeField(auto_now_add=True)
    acknowledged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "attention_seen"
        unique_together = (("attention", "practitioner"),)
