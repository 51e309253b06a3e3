from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_discreet_attribution')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEvent',
            name='chain_seq',
            field=fields.BigIntField(null=True, unique=True, description="The event's place in the tamper-evident chain, once the worker has sealed it."),
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='chain_hash',
            field=fields.CharField(max_length=64, null=True, description="SHA-256 over the previous sealed event's hash and this event's content."),
        ),
    ]
