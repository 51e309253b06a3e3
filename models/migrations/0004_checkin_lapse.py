from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_search_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Membership',
            name='lapse_alerted_at',
            field=fields.DatetimeField(null=True, description='When the team was told this involvement is no longer confirmed (once per lapse).', auto_now=False, auto_now_add=False),
        ),
    ]
