"""Hot-path alert reads and writes in plain SQL: on the ingest path the ORM's per-query
and per-row work (a CASE per row in bulk_update) costs more than the database does."""

import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection, models

from secalerts.alerts.models import OPEN_STATUSES, Alert, AlertEvent
from secalerts.core import bulk_insert

# Every column of a new alert but its id. The ORM's bulk_create prepared each value
# through its field, and on PostgreSQL the driver then quoted each of the statement's
# hundreds of parameters into it: 2.4 ms for a batch's ~40 new alerts.
_FIELDS = {field.name: field for field in Alert._meta.concrete_fields}
_NEW_ALERT_FIELDS = tuple(field for field in _FIELDS.values() if not field.primary_key)
_NEW_ALERT_COLUMNS = tuple(f.column for f in _NEW_ALERT_FIELDS if f.column)  # all: concrete
# What a batch changes on an open alert its matches join.
_COUNTERS = ("event_count", "first_seen", "last_seen", "severity", "severity_rank", "updated_at")
# What dedup reads of such an alert.
_DEDUP_COLUMNS = (
    "id",
    "group_key",
    "event_count",
    "first_seen",
    "last_seen",
    "severity",
    "severity_rank",
)
_DEDUP_TIMES = tuple(
    name for name in _DEDUP_COLUMNS if isinstance(_FIELDS[name], models.DateTimeField)
)

Writer = Callable[[Any], Any]


def _writers(names: Sequence[str], adapt_datetime: Writer) -> tuple[tuple[str, Writer | None], ...]:
    """How each of these Alert attributes is written in plain SQL (None: as it is)."""
    writers: list[tuple[str, Writer | None]] = []
    for name in names:
        field = _FIELDS[name]
        if isinstance(field, models.DateTimeField):
            writers.append((field.attname, adapt_datetime))
        elif isinstance(field, models.JSONField):
            writers.append((field.attname, json.dumps))
        else:
            writers.append((field.attname, None))
    return tuple(writers)


def _row(alert: Alert, writers: tuple[tuple[str, Writer | None], ...]) -> tuple[Any, ...]:
    return tuple(
        getattr(alert, name) if write is None else write(getattr(alert, name))
        for name, write in writers
    )


def insert_alerts(alerts: Sequence[Alert]) -> None:
    """Insert new alerts and set their ids."""
    if not alerts:
        return
    writers = _writers([f.name for f in _NEW_ALERT_FIELDS], bulk_insert.datetime_adapter())
    rows = [_row(alert, writers) for alert in alerts]
    table = Alert._meta.db_table
    if connection.vendor == "postgresql":
        # Ids drawn first, then the rows copied: no reliance on the order of RETURNING
        # rows, and no statement with hundreds of parameters for the driver to quote.
        # COPY even for a few rows: 40 alerts took 2.0 ms against 3.3 by executemany.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(alerts)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
        bulk_insert.copy_rows(
            table,
            ("id", *_NEW_ALERT_COLUMNS),
            [(pk, *row) for pk, row in zip(ids, rows, strict=True)],
        )
    else:
        # SQLite: its RETURNING rows come back in VALUES order, as Django's bulk_create
        # relies on too (and one writer at a time holds the database).
        ids = bulk_insert.insert_returning(table, _NEW_ALERT_COLUMNS, rows, "RETURNING id")
    for alert, pk in zip(alerts, ids, strict=True):
        alert.pk = pk
        alert._state.adding = False


def update_alert_counters(alerts: Sequence[Alert]) -> None:
    if not alerts:
        return
    writers = _writers((*_COUNTERS, "id"), connection.ops.adapt_datetimefield_value)
    q = connection.ops.quote_name
    assignments = ", ".join(f"{q(name)} = %s" for name in _COUNTERS)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {q(Alert._meta.db_table)} SET {assignments} WHERE id = %s",  # noqa: S608
            [_row(alert, writers) for alert in alerts],
        )


def link_events(
    new: Mapping[int, Collection[Any]], maybe_linked: Mapping[int, Collection[Any]]
) -> Counter[int]:
    """Link events to alerts (alert id -> event ids); returns new links per alert.

    `new`: links of events this transaction stored, which nothing can be linked to
    yet, so they are written as they are. `maybe_linked`: links of earlier events
    (prior threshold hits), which an earlier batch may have linked already: the
    database skips those (ON CONFLICT against alert_event_once), so they are neither
    linked nor counted twice, and no query has to look the existing links up first.
    """
    table, columns = AlertEvent._meta.db_table, ("alert_id", "event_id")
    bulk_insert.insert_rows(table, columns, _link_rows(new))
    added = Counter({alert_id: len(ids) for alert_id, ids in new.items()})
    added.update(
        bulk_insert.insert_new_rows(
            table, columns, _link_rows(maybe_linked), conflict=columns, returning="alert_id"
        )
    )
    return added


def _link_rows(links: Mapping[int, Collection[Any]]) -> list[tuple[int, Any]]:
    db_uuid = bulk_insert.uuid_adapter()
    return [(alert_id, db_uuid(event_id)) for alert_id, ids in links.items() for event_id in ids]


def open_alerts_near(keys: Sequence[str], earliest: datetime, latest: datetime) -> list[Alert]:
    """Open alerts of these groups whose event times reach [earliest, latest]: the only
    alerts a batch's matches can join. Loaded with the columns dedup needs."""
    with connection.cursor() as cursor:
        cursor.execute(*open_alerts_query(keys, earliest, latest))
        rows = cursor.fetchall()
    alerts = []
    for row in rows:
        values = dict(zip(_DEDUP_COLUMNS, row, strict=True))
        for name in _DEDUP_TIMES:
            values[name] = aware_datetime(values[name])
        alerts.append(Alert(**values))
    return alerts


def open_alerts_query(
    keys: Sequence[str], earliest: datetime, latest: datetime
) -> tuple[str, list[Any]]:
    """SQL and parameters of `open_alerts_near`, looking each group up in alert_dedup.

    On PostgreSQL a subquery per group, as for threshold packs (rules.window_state):
    without statistics it planned `group_key IN (...)` as a walk of every open alert
    by the status index, 1.5 ms at 6,700 open alerts and growing with them.
    """
    adapt = connection.ops.adapt_datetimefield_value
    table = connection.ops.quote_name(Alert._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in _DEDUP_COLUMNS)
    near = "status IN (%s, %s) AND last_seen >= %s AND first_seen <= %s"
    params = [*OPEN_STATUSES, adapt(earliest), adapt(latest)]
    keys_json = json.dumps(list(keys))  # one parameter, however many keys a batch has
    if connection.vendor == "postgresql":
        return (
            "SELECT a.* FROM json_array_elements_text(%s::json) AS k(key) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT {columns} FROM {table} "
            f"WHERE group_key = k.key AND {near} OFFSET 0) AS a ORDER BY a.id",
            [keys_json, *params],
        )
    return (
        f"SELECT {columns} FROM {table} WHERE group_key IN (SELECT value FROM json_each(%s)) "  # noqa: S608
        f"AND {near} ORDER BY id",
        [keys_json, *params],
    )


def aware_datetime(value: str | datetime) -> datetime:
    """A datetime column as read in plain SQL: SQLite gives the text Django stored (UTC,
    no offset), PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
