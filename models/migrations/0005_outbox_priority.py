from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_checkin_lapse')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Outbox',
            name='priority',
            field=fields.SmallIntField(default=1, description='Lower goes first: 0 for sign-in and signup links someone is waiting for, 1 for alerts.'),
        ),
    ]
