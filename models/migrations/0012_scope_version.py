from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_audit_keyset')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Practitioner',
            name='scope_version',
            field=fields.IntField(default=0, db_default=0, description='Goes up whenever their chosen areas or current teams change, so each process may keep'),
        ),
    ]
