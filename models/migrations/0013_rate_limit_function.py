"""On PostgreSQL, functions count and record a rate-limited attempt under the key's advisory
lock, so the app sends one statement for it (web/core/ratelimit.py `hit` and `hit_once`).

Inside a VOLATILE function each query takes a fresh snapshot: the count after the lock sees
every attempt committed by whoever held it. On SQLite one statement is enough without it
(the transaction holds the only connection).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

PG_HIT = """
CREATE OR REPLACE FUNCTION patchwork_rate_limit_hit(
    wanted_key varchar, moment timestamptz, since timestamptz, allowed bigint, lock_space integer
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_space, hashtext(wanted_key));
    IF (SELECT COUNT(*) FROM rate_limit_hit WHERE key = wanted_key AND at > since) >= allowed
    THEN
        RETURN false;
    END IF;
    INSERT INTO rate_limit_hit (key, at) VALUES (wanted_key, moment);
    RETURN true;
END
$$
"""
PG_HIT_ONCE = """
CREATE OR REPLACE FUNCTION patchwork_rate_limit_hit_once(
    wanted_key varchar, marker varchar, moment timestamptz, since timestamptz, allowed bigint,
    lock_space integer
) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_space, hashtext(wanted_key));
    IF EXISTS (SELECT 1 FROM rate_limit_hit WHERE key = marker AND at > since) THEN
        RETURN true;
    END IF;
    IF (SELECT COUNT(*) FROM rate_limit_hit WHERE key = wanted_key AND at > since) >= allowed
    THEN
        RETURN false;
    END IF;
    INSERT INTO rate_limit_hit (key, at) VALUES (wanted_key, moment), (marker, moment);
    RETURN true;
END
$$
"""


async def forward(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        # Not _run_sql: it splits on ";", which the function body contains.
        await schema_editor.client.execute_query(PG_HIT)
        await schema_editor.client.execute_query(PG_HIT_ONCE)


async def backward(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "sqlite":
        await schema_editor.client.execute_query(
            "DROP FUNCTION patchwork_rate_limit_hit(varchar, timestamptz, timestamptz, bigint, "
            "integer)"
        )
        await schema_editor.client.execute_query(
            "DROP FUNCTION patchwork_rate_limit_hit_once(varchar, varchar, timestamptz, "
            "timestamptz, bigint, integer)"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0012_scope_version")]

    initial = False

    operations = [ops.RunPython(forward, backward)]
