"""The directory's version (migration 0015) also moves when a practitioner is added or removed,
or their name, job title, organisation, `active` or signup step changes: what the phone book
lists and searches. Each process then keeps the listed colleagues in memory and matches them
without a statement (web/core/colleagues.py), and every process sees a change at its next
request. An update that changes none of those columns (a sign-in, a preference) moves nothing.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"
COLUMNS = ("name", "job_title", "organisation_id", "active", "signup_step")
SQLITE = [
    *(
        f"CREATE TRIGGER practitioner_{event.lower()}_directory AFTER {event} ON practitioner "
        f"BEGIN {BUMP}; END"
        for event in ("INSERT", "DELETE")
    ),
    "CREATE TRIGGER practitioner_update_directory AFTER UPDATE ON practitioner WHEN "
    + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COLUMNS)
    + f" BEGIN {BUMP}; END",
]
POSTGRES = [
    # patchwork_directory_changed() is migration 0015's: it moves the version, returns NULL.
    "CREATE TRIGGER practitioner_directory AFTER INSERT OR DELETE OR TRUNCATE ON practitioner "
    "FOR EACH STATEMENT EXECUTE FUNCTION patchwork_directory_changed()",
    "CREATE TRIGGER practitioner_update_directory AFTER UPDATE ON practitioner FOR EACH ROW "
    "WHEN (" + " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COLUMNS) + ") "
    "EXECUTE FUNCTION patchwork_directory_changed()",
]


async def forward(apps, schema_editor) -> None:
    sqlite = schema_editor.DIALECT == "sqlite"
    # One statement at a time: the trigger bodies hold ";".
    for statement in SQLITE if sqlite else POSTGRES:
        await schema_editor.client.execute_query(statement)


async def backward(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        for event in ("insert", "delete", "update"):
            await schema_editor.client.execute_query(f"DROP TRIGGER practitioner_{event}_directory")
    else:
        for name in ("practitioner_directory", "practitioner_update_directory"):
            await schema_editor.client.execute_query(f"DROP TRIGGER {name} ON practitioner")


class Migration(migrations.Migration):
    dependencies = [("models", "0018_admin_rollup")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
