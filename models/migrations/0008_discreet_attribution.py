from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_join_codes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Membership',
            name='visible_since',
            field=fields.DatetimeField(null=True, description="Since when the team has seen this member, null while discreet.", auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(
            "UPDATE membership SET visible_since = started_at WHERE discreet = false",
            reverse_sql="SELECT 1",
        ),
        ops.AddField(
            model_name='Attention',
            name='named',
            field=fields.BooleanField(default=True, description="Whether the team sees who raised it."),
        ),
    ]
