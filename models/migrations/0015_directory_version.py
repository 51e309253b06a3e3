"""A number that goes up whenever any organisation is added, changed or removed, by trigger,
whatever writes it (the ORM, a bulk update, raw SQL, a truncate). Each request's session
statement reads it, so a process may keep the organisations in memory and read them afresh
only when it moved (web/core/services.py): one statement less for every directory search,
and still every process sees a change at once.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

TABLE = [
    "CREATE TABLE directory_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
    "INSERT INTO directory_version (id, version) VALUES (1, 0)",
]
BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"
SQLITE = [
    f"CREATE TRIGGER organisation_{event.lower()}_directory AFTER {event} ON organisation "
    f"BEGIN {BUMP}; END"
    for event in ("INSERT", "UPDATE", "DELETE")
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION patchwork_directory_changed() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN {BUMP}; RETURN NULL; END $$",
    "CREATE TRIGGER organisation_directory AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
    "organisation FOR EACH STATEMENT EXECUTE FUNCTION patchwork_directory_changed()",
]


async def forward(apps, schema_editor) -> None:
    sqlite = schema_editor.DIALECT == "sqlite"
    # One statement at a time: the trigger bodies hold ";".
    for statement in TABLE + (SQLITE if sqlite else POSTGRES):
        await schema_editor.client.execute_query(statement)


async def backward(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "sqlite":
        for event in ("insert", "update", "delete"):
            await schema_editor.client.execute_query(f"DROP TRIGGER organisation_{event}_directory")
    else:
        await schema_editor.client.execute_query(
            "DROP TRIGGER organisation_directory ON organisation"
        )
        await schema_editor.client.execute_query("DROP FUNCTION patchwork_directory_changed()")
    await schema_editor.client.execute_query("DROP TABLE directory_version")


class Migration(migrations.Migration):
    dependencies = [("models", "0014_automatic_areas")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
