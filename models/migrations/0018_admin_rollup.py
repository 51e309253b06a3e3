"""The administration overview's counts per council, kept by the worker (CouncilFigures)."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0017_family_cards")]

    initial = False

    operations = [
        ops.CreateModel(
            name="CouncilFigures",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("area", fields.OneToOneField("models.Area", source_field="area_id", db_constraint=True, to_field="id", related_name="figures", on_delete=OnDelete.CASCADE)),
                ("counted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("first_month", fields.CharField(default="", db_default="", max_length=7)),
                ("memberships", fields.IntField(default=0, db_default=0)),
                ("cells", fields.JSONField(default=dict)),
            ],
            options={"table": "council_figures", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
