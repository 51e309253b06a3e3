"""The lead professional (one current lead per client, by partial unique index) and the team
events History shows besides joins, leaves and attentions."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

ONE_LEAD = (
    "CREATE UNIQUE INDEX membership_one_lead ON membership (client_id) "
    "WHERE lead AND ended_at IS NULL"
)


async def forward(apps, schema_editor) -> None:
    await schema_editor.client.execute_query(ONE_LEAD)


async def backward(apps, schema_editor) -> None:
    await schema_editor.client.execute_query("DROP INDEX membership_one_lead")


class Migration(migrations.Migration):
    dependencies = [("models", "0015_directory_version")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Membership",
            name="lead",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.CreateModel(
            name="TeamEvent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("client", fields.ForeignKeyField("models.Client", source_field="client_id", db_constraint=True, to_field="id", related_name="team_events", on_delete=OnDelete.CASCADE)),
                ("kind", fields.CharField(max_length=20)),
                ("actor", fields.ForeignKeyField("models.Practitioner", source_field="actor_id", db_constraint=True, to_field="id", related_name="team_events", null=True, on_delete=OnDelete.SET_NULL)),
                ("subject", fields.ForeignKeyField("models.Practitioner", source_field="subject_id", db_constraint=True, to_field="id", related_name="team_events_about", null=True, on_delete=OnDelete.SET_NULL)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "team_event", "app": "models", "pk_attr": "id", "indexes": [Index(fields=["client_id", "at"])]},
            bases=["Model"],
        ),
        ops.RunPython(forward, backward),
    ]
