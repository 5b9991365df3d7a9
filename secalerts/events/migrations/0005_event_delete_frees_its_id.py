"""On PostgreSQL, deleting an event deletes its row in events_event_id (the id's claim,
events.partitions), however it is deleted: through the ORM, the admin or SQL. Without
it, an event deleted and sent again was taken for a duplicate and not stored."""

from django.db import migrations

FORGET_ID = """
CREATE OR REPLACE FUNCTION events_event_forget_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events_event_id WHERE id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER events_event_forget_id AFTER DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_event_forget_id();
"""
REMEMBER_ID = """
DROP TRIGGER IF EXISTS events_event_forget_id ON events_event;
DROP FUNCTION IF EXISTS events_event_forget_id();
"""


def _on_postgres(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("events", "0004_partition_by_time")]

    operations = [migrations.RunPython(_on_postgres(FORGET_ID), _on_postgres(REMEMBER_ID))]
