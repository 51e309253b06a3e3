from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_rate_limit_function')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Practitioner',
            name='automatic_areas',
            field=fields.BooleanField(default=True, description="Whether client search also looks first in the areas of the practitioner's own clients.", db_default=True),
        ),
    ]
