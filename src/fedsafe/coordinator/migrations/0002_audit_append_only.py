"""Database triggers that refuse UPDATE and DELETE on the audit table, so the log stays
append-only even for someone who bypasses Django (a shell, a bug, a stray migration)."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER coordinator_auditevent_no_update BEFORE UPDATE ON coordinator_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
    """CREATE TRIGGER coordinator_auditevent_no_delete BEFORE DELETE ON coordinator_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END""",
]
POSTGRES = [
    """CREATE FUNCTION coordinator_audit_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER coordinator_auditevent_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON coordinator_auditevent FOR EACH STATEMENT
    EXECUTE FUNCTION coordinator_audit_append_only()""",
]


def add_triggers(apps, schema_editor):
    statements = {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor)
    if statements is None:
        raise RuntimeError(f"no append-only triggers for {schema_editor.connection.vendor}")
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("coordinator", "0001_initial")]
    operations = [migrations.RunPython(add_triggers, migrations.RunPython.noop)]
