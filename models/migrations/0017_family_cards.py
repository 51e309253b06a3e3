"""The family's cards (and who agreed to be on each), and whether each practitioner and each
membership is listed on them."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0016_lead_professional")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Practitioner",
            name="family_listing",
            field=fields.CharField(max_length=5, default="", db_default=""),
        ),
        ops.AddField(
            model_name="Membership",
            name="family_listing",
            field=fields.CharField(max_length=5, default="", db_default=""),
        ),
        ops.CreateModel(
            name="FamilyCard",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("client", fields.ForeignKeyField("models.Client", source_field="client_id", db_constraint=True, to_field="id", related_name="family_cards", on_delete=OnDelete.CASCADE)),
                ("recipient", fields.CharField(max_length=60)),
                ("method", fields.CharField(max_length=5)),
                ("created_by", fields.ForeignKeyField("models.Practitioner", source_field="created_by_id", db_constraint=True, to_field="id", related_name="family_cards", null=True, on_delete=OnDelete.SET_NULL)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("withdrawn_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("withdrawn_by", fields.ForeignKeyField("models.Practitioner", source_field="withdrawn_by_id", db_constraint=True, to_field="id", related_name="family_cards_withdrawn", null=True, on_delete=OnDelete.SET_NULL)),
                ("opened_on", fields.DateField(null=True)),
                ("outbox_id", fields.BigIntField(null=True)),
            ],
            options={"table": "family_card", "app": "models", "pk_attr": "id", "indexes": [Index(fields=["client_id", "expires_at"]), Index(fields=["outbox_id"])]},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FamilyCardAgreement",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("card", fields.ForeignKeyField("models.FamilyCard", source_field="card_id", db_constraint=True, to_field="id", related_name="agreements", on_delete=OnDelete.CASCADE)),
                ("practitioner", fields.ForeignKeyField("models.Practitioner", source_field="practitioner_id", db_constraint=True, to_field="id", related_name="family_card_agreements", on_delete=OnDelete.CASCADE)),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "family_card_agreement", "app": "models", "pk_attr": "id", "unique_together": (("card", "practitioner"),)},
            bases=["Model"],
        ),
    ]
