"""Rules the database itself enforces, which Tortoise cannot yet declare on both dialects.

- One *current* membership per client and practitioner (a partial unique index).
- A circle link is stored once per pair, as (a, b) with a < b (unique_together in 0001
  plus this ordering check, so (b, a) cannot sneak in beside (a, b)).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

ONE_CURRENT_MEMBERSHIP = (
    "CREATE UNIQUE INDEX membership_one_current ON membership (client_id, practitioner_id) "
    "WHERE ended_at IS NULL"
)
PG_ORDERED_PAIR = (
    "ALTER TABLE circle_link ADD CONSTRAINT circle_link_ordered_pair "
    "CHECK (client_a_id < client_b_id)"
)
# SQLite cannot add a CHECK to an existing table; triggers refuse the same rows.
SQLITE_ORDERED_PAIR = [
    f"CREATE TRIGGER circle_link_ordered_pair_{event} BEFORE {event.upper()} ON circle_link "
    "WHEN NEW.client_a_id >= NEW.client_b_id "
    "BEGIN SELECT RAISE(ABORT, 'circle_link_ordered_pair: client_a_id < client_b_id'); END"
    for event in ("insert", "update")
]


async def forward(apps, schema_editor) -> None:
    await schema_editor._run_sql(ONE_CURRENT_MEMBERSHIP)
    if schema_editor.DIALECT == "sqlite":
        for sql in SQLITE_ORDERED_PAIR:
            # Not _run_sql: it splits on ";", which a trigger body contains.
            await schema_editor.client.execute_query(sql)
    else:
        await schema_editor._run_sql(PG_ORDERED_PAIR)


async def backward(apps, schema_editor) -> None:
    await schema_editor._run_sql("DROP INDEX membership_one_current")
    if schema_editor.DIALECT == "sqlite":
        for event in ("insert", "update"):
            await schema_editor._run_sql(f"DROP TRIGGER circle_link_ordered_pair_{event}")
    else:
        await schema_editor._run_sql(
            "ALTER TABLE circle_link DROP CONSTRAINT circle_link_ordered_pair"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]
    operations = [ops.RunPython(forward, backward)]
