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
