"""The area tree: state (or country) › district › council area."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

AREA_KINDS = ("state", "district", "county", "council")


class Area(Model):
    """A node in the area tree, loaded from the deployment's reference file."""

    id = fields.IntField(primary_key=True)
    #: Official code, e.g. "AU-VIC-C01" or an ONS code.
    code = fields.CharField(max_length=20, unique=True)
    name = fields.CharField(max_length=120)
    #: One of AREA_KINDS.
    kind = fields.CharField(max_length=10)
    parent_id: int | None
    parent: fields.ForeignKeyNullableRelation[Area] = fields.ForeignKeyField(
        "models.Area", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    children: fields.ReverseRelation[Area]

    class Meta:
        table = "area"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CouncilFigures(Model):
    """The administration overview's counts for one council as last counted: the worker counts
    each council again every few minutes, so a large selection reads a row per council.

    `cells` holds the raw sums (discreet memberships counted apart, never suppressed here): the
    overview applies its discreet-member rule to these exactly as to counts made live.
    """

    id = fields.IntField(primary_key=True)
    area_id: int
    area: fields.OneToOneRelation[Area] = fields.OneToOneField(
        "models.Area", related_name="figures", on_delete=fields.CASCADE
    )
    #: When they were counted.
    counted_at = fields.DatetimeField()
    #: The first of the twelve months counted, "2026-01": a row of another span is not used.
    first_month = fields.CharField(max_length=7, default="", db_default="")
    #: Memberships counted (how long counting this council live would take).
    memberships = fields.IntField(default=0, db_default=0)
    #: The sums by name (v_members, d_joins_3, active, …), as web/core/council_figures counts.
    cells: fields.Field[dict[str, int]] = fields.JSONField(default=dict)

    class Meta:
        table = "council_figures"
