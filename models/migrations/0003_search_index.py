from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_constraints')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClientNameWord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('word_id', fields.IntField()),
                ('area_id', fields.IntField()),
                ('client_id', fields.IntField()),
            ],
            options={'table': 'client_name_word', 'app': 'models', 'unique_together': (('word_id', 'area_id', 'client_id'),), 'indexes': [Index(fields=['client_id'])], 'pk_attr': 'id', 'table_description': "A posting: this word occurs in this client's names, and the client lives in this area."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NameWord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('word', fields.CharField(unique=True, max_length=80)),
            ],
            options={'table': 'name_word', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One normalised name word ("thompson", "obrien", "zoe"), once.'},
            bases=['Model'],
        ),
    ]
