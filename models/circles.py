"""Circle links: symmetric relationships between two clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.clients import Client
    from models.practitioners import Practitioner

RELATIONSHIPS = ("parent", "child", "sibling", "household", "carer", "partner", "other")
#: How a relationship reads from the other side of a symmetric link.
INVERSE = {"parent": "child", "child": "parent"}


class CircleLink(Model):
    """A link between two clients, stored once per pair with client_a_id < client_b_id.

    `relationship` is what client_b is to client_a ("parent": b is a's parent).
    The ordering and the uniqueness of the pair are enforced by the database.
    """

    id = fields.IntField(primary_key=True)
    client_a: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="links_as_a", on_delete=fields.CASCADE
    )
    client_b: fields.ForeignKeyRelation[Client] = fields.ForeignKeyField(
        "models.Client", related_name="links_as_b", on_delete=fields.CASCADE
    )
    relationship = fields.CharField(max_length=20)
    created_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="links_made", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "circle_link"
        unique_together = (("client_a", "client_b"),)
        indexes = (("client_b_id",),)

    def __str__(self) -> str:
        return f"link {self.client_a_id}–{self.client_b_id}"  # type: ignore[attr-defined]


def ordered_pair(one: int, other: int, relationship: str) -> tuple[int, int, str]:
    """Store (a, b) with a < b, turning the relationship round when the pair is swapped."""
    if one < other:
        return one, other, relationship
    return other, one, INVERSE.get(relationship, relationship)
