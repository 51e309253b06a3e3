from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_audit_chain')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AdminArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('practitioner', fields.ForeignKeyField('models.Practitioner', source_field='practitioner_id', db_constraint=True, to_field='id', related_name='admin_areas', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='administered_by', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'admin_area', 'app': 'models', 'unique_together': (('practitioner', 'area'),), 'pk_attr': 'id', 'table_description': 'An area a local administrator looks after: a district, a council, or the state (every'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrganisationArea',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='areas_served', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('models.Area', source_field='area_id', db_constraint=True, to_field='id', related_name='served_by', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'organisation_area', 'app': 'models', 'unique_together': (('organisation', 'area'),), 'pk_attr': 'id', 'table_description': 'A council area an organisation serves, besides the one it is based in.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Organisation',
            name='parent',
            field=fields.ForeignKeyField('models.Organisation', source_field='parent_id', null=True, description='The agency this organisation is a service within, if any.', db_constraint=True, to_field='id', related_name='services', on_delete=OnDelete.SET_NULL),
        ),
        # A local administrator's one area becomes their first of possibly several.
        ops.RunSQL(
            "INSERT INTO admin_area (practitioner_id, area_id) "
            "SELECT id, admin_area_id FROM practitioner WHERE admin_area_id IS NOT NULL"
        ),
        ops.RemoveField(model_name='Practitioner', name='admin_area'),
    ]
