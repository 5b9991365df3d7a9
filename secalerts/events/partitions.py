"""PostgreSQL: events_event is partitioned by RANGE on `timestamp`, one partition a day.

So retention drops whole days (a catalog change) instead of deleting millions of rows.

- Daily partitions are named events_event_pYYYYMMDD and cover [day, day + 1) in UTC.
  They are made ahead (DAYS_AHEAD) by the daily prune job and at migrate time.
- events_event_default (the DEFAULT partition) takes any other time: events from
  before the first day partition, far in the future (detection.schema admits years 1
  to 9999), or of a day whose partition was not made: an insert never fails for want
  of a partition. When a day's partition is made, that day's rows move out of it.
- A partitioned table's unique keys must hold the partition key, so the primary key
  is (id, timestamp); the id alone is kept unique by events_event_id (EventId, not
  partitioned), which ingestion writes first: see events.storage.
- Nothing points at events with a database foreign key (alerts.AlertEvent has
  db_constraint=False); pruning deletes the rows that refer to pruned events.

Plain SQL rather than django-postgres-extra: a handful of statements, no dependency
to keep in step with Django, and the model stays an ordinary one for the ORM.
On SQLite none of this applies: is_partitioned() is False.
"""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import OperationalError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

TABLE = "events_event"
DEFAULT = "events_event_default"
PREFIX = "events_event_p"
DAYS_AHEAD = 7
# DDL that needs a lock on events_event waits at most this long, then gives up (and is
# tried again, then on the next run): a long query must not queue every insert behind it.
LOCK_TIMEOUT = "1s"
LOCK_ATTEMPTS = 5
_NAME = re.compile(rf"^{PREFIX}(\d{{8}})$")

# The indexes of the model (events.models.Event.Meta), made on the partitioned table.
INDEXES = (
    'CREATE INDEX event_newest ON events_event ("timestamp" DESC, id DESC)',
    'CREATE INDEX event_type_time ON events_event (event_type, "timestamp" DESC)',
    'CREATE INDEX event_source_time ON events_event (source, "timestamp" DESC)',
    'CREATE INDEX event_source_ip_time ON events_event (source_ip, "timestamp" DESC) '
    "WHERE source_ip IS NOT NULL",
    'CREATE INDEX event_username_time ON events_event (username, "timestamp" DESC) '
    "WHERE username IS NOT NULL",
)


def is_partitioned(using: BaseDatabaseWrapper | None = None) -> bool:
    return (using or connection).vendor == "postgresql"


def partition_name(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def _start(day: date) -> str:
    return datetime.combine(day, time(), tzinfo=UTC).isoformat()


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    day: date
    attached: bool

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day + timedelta(days=1), time(), tzinfo=UTC)


def day_partitions() -> list[Partition]:
    """Every day table, attached or left detached by a prune that stopped halfway."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relispartition FROM pg_class "
            "WHERE relkind = 'r' AND relname LIKE %s "
            "AND relnamespace = current_schema()::regnamespace",
            [f"{PREFIX}%"],
        )
        found = []
        for name, attached in cursor.fetchall():
            if match := _NAME.match(name):
                found.append(Partition(name, date.fromisoformat(match[1]), attached))
    return sorted(found, key=lambda p: p.day)


def convert_sql(first_day: date, last_day: date) -> list[str]:
    """events_event (plain) -> events_event (partitioned), rows kept: for the migration.
    Partitions for [first_day, last_day]; the rest goes to the DEFAULT partition."""
    statements = [
        "CREATE TABLE events_event_partitioned "
        "(LIKE events_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        'PARTITION BY RANGE ("timestamp")',
        f"CREATE TABLE {DEFAULT} PARTITION OF events_event_partitioned DEFAULT",
    ]
    day = first_day
    while day <= last_day:
        statements.append(
            f"CREATE TABLE {partition_name(day)} PARTITION OF events_event_partitioned "
            f"FOR VALUES FROM ('{_start(day)}') TO ('{_start(day + timedelta(days=1))}')"
        )
        day += timedelta(days=1)
    return [
        *statements,
        "INSERT INTO events_event_partitioned SELECT * FROM events_event",
        'INSERT INTO events_event_id (id, "timestamp") SELECT id, "timestamp" FROM events_event',
        "DROP TABLE events_event",
        "ALTER TABLE events_event_partitioned RENAME TO events_event",
        'ALTER TABLE events_event ADD CONSTRAINT events_event_pkey PRIMARY KEY (id, "timestamp")',
        *INDEXES,
        "ANALYZE events_event",
    ]


def unconvert_sql() -> list[str]:
    """The way back (migrating backwards): one plain table, the id unique again."""
    return [
        "CREATE TABLE events_event_plain "
        "(LIKE events_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
        "INSERT INTO events_event_plain SELECT * FROM events_event",
        "DROP TABLE events_event",
        "ALTER TABLE events_event_plain RENAME TO events_event",
        "ALTER TABLE events_event ADD CONSTRAINT events_event_pkey PRIMARY KEY (id)",
        *INDEXES,
    ]


@contextmanager
def _short_locks() -> Iterator[None]:
    """A transaction whose lock waits end after LOCK_TIMEOUT."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        yield


def with_lock_retries(what: str, statement: str) -> bool:
    """Run DDL in its own short-lock transaction, a few times; False if it never got its
    locks (logged: the next daily run tries again)."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            with _short_locks(), connection.cursor() as cursor:
                for part in statement.split(";\n"):
                    cursor.execute(part)
            return True
        except OperationalError as error:
            if "lock timeout" not in str(error):
                raise
            logger.warning("%s: lock not granted (attempt %d)", what, attempt)
    return False


def ensure_partitions(*, now: datetime, days_ahead: int = DAYS_AHEAD) -> list[str]:
    """Day partitions from today to `days_ahead` days on; returns the names made.

    A new day is made as its own table and then attached, which locks events_event only
    in SHARE UPDATE EXCLUSIVE mode (inserts and reads go on); its rows in the DEFAULT
    partition move with it, in the same transaction.
    """
    if not is_partitioned():
        return []
    existing = {p.day for p in day_partitions()}
    today = now.astimezone(UTC).date()
    made = []
    for offset in range(days_ahead + 1):
        day = today + timedelta(days=offset)
        if day in existing:
            continue
        name, start, end = partition_name(day), _start(day), _start(day + timedelta(days=1))
        statement = ";\n".join(
            (
                f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
                # No insert into DEFAULT between the move and the attach's check of it.
                f"LOCK TABLE {DEFAULT} IN SHARE ROW EXCLUSIVE MODE",
                f"WITH moved AS (DELETE FROM {DEFAULT} "  # noqa: S608 - our names and dates
                f"WHERE \"timestamp\" >= '{start}' AND \"timestamp\" < '{end}' RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved",
                f"ALTER TABLE {TABLE} ATTACH PARTITION {name} "
                f"FOR VALUES FROM ('{start}') TO ('{end}')",
            )
        )
        if with_lock_retries(f"make partition {name}", statement):
            made.append(name)
    return made


def detach(partition: Partition) -> bool:
    """Take a whole day out of events_event (a brief ACCESS EXCLUSIVE lock: DETACH
    CONCURRENTLY is refused while a DEFAULT partition exists)."""
    return with_lock_retries(
        f"detach {partition.name}", f"ALTER TABLE {TABLE} DETACH PARTITION {partition.name}"
    )


def drop(partition: Partition) -> None:
    """A detached day: no lock on events_event."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {partition.name}")
