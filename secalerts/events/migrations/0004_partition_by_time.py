"""Events partitioned by day on PostgreSQL (events.partitions); the id table on both.

On PostgreSQL the table is rebuilt: partitioned copy, rows copied, old table dropped,
so an existing database is converted in place (it holds a lock on events for the copy).
On SQLite the table stays as it is. The model does not change: no state operations.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from secalerts.events import partitions


def partition(apps, schema_editor):
    if not partitions.is_partitioned(schema_editor.connection):
        return
    today = timezone.now().date()
    # Days back only as far as the stored events and the retention go: a new database
    # starts with today and the days ahead (each partition is 7 relations to open and
    # to truncate).
    with schema_editor.connection.cursor() as cursor:
        cursor.execute('SELECT min("timestamp") FROM events_event')
        oldest = cursor.fetchone()[0]
    first = today
    if oldest is not None:
        first = max(oldest.date(), today - timedelta(days=settings.EVENTS_RETENTION_DAYS + 1))
        first = min(first, today)
    for statement in partitions.convert_sql(first, today + timedelta(days=partitions.DAYS_AHEAD)):
        schema_editor.execute(statement)


def unpartition(apps, schema_editor):
    if not partitions.is_partitioned(schema_editor.connection):
        return
    for statement in partitions.unconvert_sql():
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('events', '0003_event_received_by'),
        # The links' foreign key constraint to events_event is gone before it is dropped.
        ('alerts', '0003_alert_event_links_without_db_constraints'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventId',
            fields=[
                ('id', models.UUIDField(primary_key=True, serialize=False)),
                ('timestamp', models.DateTimeField()),
            ],
            options={
                'db_table': 'events_event_id',
            },
        ),
        migrations.RunPython(partition, unpartition),
    ]
