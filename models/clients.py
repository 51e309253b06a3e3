"""Clients: the minimal record of a person practitioners support.

Only what PRODUCT.md lists: names, date or year of birth, council area and how
sharing was agreed. No case notes, no address, no diagnoses — by design.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.areas import Area
    from models.practitioners import Practitioner
    from models.teams import Membership

SHARING_BASES = ("consent", "legal")
#: The legal bases for sharing without consent come per deployment: web/core/legal_bases.py.


class Client(Model):
    """A person practitioners support: child, young person, parent or vulnerable adult."""

    id = fields.IntField(primary_key=True)
    given_name = fields.CharField(max_length=80)
    family_name = fields.CharField(max_length=80)
    #: Aliases and preferred names, free text ("Mimi, Mia-Rose").
    other_names = fields.CharField(max_length=200, default="")
    #: Full date of birth when known, otherwise just the year, both null when unknown.
    birth_date = fields.DateField(null=True)
    birth_year = fields.SmallIntField(null=True)
    area_id: int
    area: fields.ForeignKeyRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="clients", on_delete=fields.RESTRICT
    )
    #: "consent" or "legal" (shared without consent, on legal_basis).
    sharing_basis = fields.CharField(max_length=10, default="consent")
    legal_basis = fields.CharField(max_length=120, default="")
    created_by: fields.ForeignKeyNullableRelation[Practitioner] = fields.ForeignKeyField(
        "models.Practitioner", related_name="clients_added", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    #: When the team last became empty (drives the retention clock), null while it has members.
    team_empty_since = fields.DatetimeField(null=True)

    memberships: fields.ReverseRelation[Membership]

    class Meta:
        table = "client"
        ordering = ["family_name", "given_name", "id"]
        indexes = (("area_id", "family_name"),)

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def born_year(self) -> int | None:
        return self.birth_date.year if self.birth_date else self.birth_year

    def age_on(self, today: date) -> int | None:
        """Age in whole years, or None when only the year (or nothing) is known."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
