"""History tells a family's cards apart: each card event names its card (how it was given,
when), never whom it was given to."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0019_directory_people")]

    initial = False

    operations = [
        ops.AddField(
            model_name="TeamEvent",
            name="card",
            field=fields.ForeignKeyField(
                "models.FamilyCard",
                source_field="card_id",
                db_constraint=True,
                to_field="id",
                related_name="events",
                null=True,
                on_delete=OnDelete.SET_NULL,
            ),
        ),
    ]
