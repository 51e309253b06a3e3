"""Organisations are vouched for: the invitation names one, and a practitioner whose email
domain no organisation owns shows who vouched for theirs until an administrator confirms it.

Backfills: an invitation sent before this names its inviter's organisation (what signup
used); a practitioner who came in by such an invitation, at a domain nobody owns, is
vouched for by their inviter (they could pick any organisation at signup until now).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

INVITATIONS_NAME_THEIR_INVITERS_ORGANISATION = (
    "UPDATE invitation SET organisation_id = (SELECT organisation_id FROM practitioner "
    "WHERE practitioner.id = invitation.invited_by_id) "
    "WHERE organisation_id IS NULL AND invited_by_id IS NOT NULL"
)


async def vouch_for_invitees_at_unowned_domains(apps, schema_editor) -> None:
    client = schema_editor.client
    _, domains = await client.execute_query("SELECT domain FROM organisation_domain")
    owned = {row["domain"] for row in domains}
    _, rows = await client.execute_query(
        "SELECT practitioner.id AS id, practitioner.email AS email, "
        "invitation.invited_by_id AS inviter FROM practitioner JOIN invitation "
        "ON invitation.accepted_by_id = practitioner.id "
        "WHERE invitation.invited_by_id IS NOT NULL "
        "AND practitioner.organisation_vouched_by_id IS NULL"
    )
    for row in rows:
        if row["email"].rsplit("@", 1)[-1] not in owned:
            # Both are integers read from the database, so formatting them in is safe.
            await client.execute_query(
                f"UPDATE practitioner SET organisation_vouched_by_id = {int(row['inviter'])} "
                f"WHERE id = {int(row['id'])}"
            )


class Migration(migrations.Migration):
    dependencies = [('models', '0005_outbox_priority')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Practitioner',
            name='organisation_vouched_by',
            field=fields.ForeignKeyField('models.Practitioner', source_field='organisation_vouched_by_id', null=True, description="Who vouched for the organisation, when it came only from their invitation (the email's domain is nobody's).", db_constraint=True, to_field='id', related_name='vouched_for', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='Practitioner',
            name='organisation_confirmed_at',
            field=fields.DatetimeField(null=True, description='When an administrator confirmed a vouched-for organisation.', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Invitation',
            name='organisation',
            field=fields.ForeignKeyField('models.Organisation', source_field='organisation_id', null=True, description="The organisation the inviter named: the invitee's, unless their email's domain belongs to one.", db_constraint=True, to_field='id', related_name='invitations', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunSQL(INVITATIONS_NAME_THEIR_INVITERS_ORGANISATION, reverse_sql="SELECT 1"),
        ops.RunPython(vouch_for_invitees_at_unowned_domains, ops.RunPython.noop),
    ]
