from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_vouched_organisations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JoinCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('models.Client', source_field='client_id', db_constraint=True, to_field='id', related_name='join_codes', on_delete=OnDelete.CASCADE)),
                ('created_by', fields.ForeignKeyField('models.Practitioner', source_field='created_by_id', description='The member who showed it (never shown to anyone: they may be discreet).', db_constraint=True, to_field='id', related_name='join_codes', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'join_code', 'app': 'models', 'pk_attr': 'id', 'table_description': "A join code a member shows as a QR code, stored only as its token's SHA-256."},
            bases=['Model'],
        ),
    ]
