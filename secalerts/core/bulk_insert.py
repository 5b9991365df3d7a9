"""Bulk row writes for the ingest path: COPY on PostgreSQL, multi-row INSERT elsewhere.

The ORM's per-value preparation costs more than these inserts themselves, and
`bulk_create(ignore_conflicts=True)` cannot say which rows it skipped. Rows come in
the database's own value forms (`connection.ops` adapters, hex UUIDs on SQLite).

On PostgreSQL, COPY moves a thousand rows several times faster than a multi-row
INSERT with thousands of bound values; for a handful of rows the INSERT is faster,
so COPY is used from MIN_BULK_ROWS rows. Where rows may exist already, they are
copied into a per-session staging table and moved with INSERT .. ON CONFLICT DO
NOTHING RETURNING, so the database still decides which are new, between concurrent
workers too. Rows that are almost always new (events:
clients retry rarely) are first written straight into the table under a savepoint,
half the work; if one exists already the unique index refuses the write, the
savepoint undoes it, and the way above decides. On SQLite that straight write is an
`executemany`, a little cheaper than one INSERT .. RETURNING of 12,000 bound values
(the driver's executemany cannot return rows).
"""

import operator
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction

MIN_BULK_ROWS = 64
_UUID_ORDER = operator.attrgetter("int")
PARAMETERS_PER_STATEMENT = 30_000  # under SQLite's 32,766 and PostgreSQL's 65,535

# What the drivers adapt to SQL (Django's cursor takes these); JSON goes as text.
SQLValue = bool | int | float | Decimal | str | bytes | date | UUID | None
Row = Sequence[SQLValue]


def datetime_adapter() -> Callable[[datetime], Any]:
    """`connection.ops.adapt_datetimefield_value`, with shortcuts for the aware datetimes
    ingestion writes (thousands a batch). SQLite: the same naive UTC text, a third of
    the cost. PostgreSQL: ISO text with its offset, which the server reads as the same
    instant; the driver's own datetime dumping decides per value in Python whether it
    is naive or aware (more than half of a COPY's client CPU went to the two time
    columns)."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        return lambda value: value.isoformat() if value.tzinfo is not None else adapt(value)
    if connection.vendor != "sqlite":
        return adapt

    def adapt_utc(value: datetime) -> Any:
        return str(value.replace(tzinfo=None)) if value.tzinfo is UTC else adapt(value)

    return adapt_utc


def uuid_adapter() -> Callable[[UUID], Any]:
    """A UUID as UUIDField stores it: native on PostgreSQL, 32 hex digits elsewhere."""
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return operator.attrgetter("hex")


def insert_rows(table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """Insert rows that cannot conflict with stored ones. Names are ours, never a client's."""
    if not rows:
        return
    if _use_copy(rows):
        copy_rows(table, columns, rows)
        return
    _execute_many(table, columns, rows)


def insert_new_rows(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Row],
    *,
    conflict: Sequence[str],
    returning: str,
    likely_new: bool = False,
) -> list[Any]:
    """Insert the rows whose `conflict` key is not stored yet; returns their `returning`
    column. Of two rows with one key, the first is kept. Call inside a transaction.
    `likely_new`: try the straight write first (see above)."""
    positions = [columns.index(name) for name in conflict]
    first: dict[Any, Row]  # key -> its first row: reversed, so the first one is kept
    if len(positions) == 1:
        first = {row[positions[0]]: row for row in reversed(rows)}
    else:
        first = {tuple(row[i] for i in positions): row for row in reversed(rows)}
    # In key order: two transactions inserting some of the same keys then wait on each
    # other in one direction only. In batch order, a retry racing its original with
    # the items reordered deadlocked on the primary key (PostgreSQL aborts one).
    # UUIDs by their integer, their own order, compared in C (UUID.__lt__ and a tuple per
    # key cost several times more).
    uuids = bool(first) and isinstance(next(iter(first)), UUID)
    unique = [first[key] for key in sorted(first, key=_UUID_ORDER if uuids else None)]
    if not unique:
        return []
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    on_conflict = (
        f"ON CONFLICT ({', '.join(quote(name) for name in conflict)}) DO NOTHING "
        f"RETURNING {quote(returning)}"
    )
    if likely_new and len(unique) >= MIN_BULK_ROWS and _insert_if_all_new(table, columns, unique):
        at = columns.index(returning)
        return [row[at] for row in unique]
    with connection.cursor() as cursor:
        if _use_copy(unique):
            staging = quote(f"staging_{table}")
            # The columns' types only: no constraints or indexes to maintain. Emptied at
            # commit, and here too, should one transaction stage twice.
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "  # noqa: S608
                f"AS SELECT {names} FROM {quote(table)} WITH NO DATA"
            )
            cursor.execute(f"DELETE FROM {staging}")  # noqa: S608
            copy_rows(f"staging_{table}", columns, unique)
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {staging} {on_conflict}"  # noqa: S608
            )
            return [row[0] for row in cursor.fetchall()]
    return insert_returning(table, columns, unique, on_conflict)


def insert_returning(
    table: str, columns: Sequence[str], rows: Sequence[Row], returning: str
) -> list[Any]:
    """Multi-row INSERTs ending in `returning` (a RETURNING clause, maybe after ON
    CONFLICT), as few as the parameter limit allows; the first returned column of
    each row returned."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    per_statement = max(1, PARAMETERS_PER_STATEMENT // len(columns))
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    returned: list[Any] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES "  # noqa: S608
                f"{', '.join([placeholder] * len(chunk))} {returning}",
                [value for row in chunk for value in row],
            )
            returned += [row[0] for row in cursor.fetchall()]
    return returned


def _insert_if_all_new(table: str, columns: Sequence[str], rows: Sequence[Row]) -> bool:
    """Write into the table itself; False, with nothing written, when a row's key exists.
    A concurrent transaction's uncommitted row makes this wait for it, as an INSERT would."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                copy_rows(table, columns, rows)
            else:
                _execute_many(table, columns, rows)
    except IntegrityError:
        return False
    return True


def _execute_many(table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})",  # noqa: S608
            rows,
        )


def _use_copy(rows: Sequence[Row]) -> bool:
    return connection.vendor == "postgresql" and len(rows) >= MIN_BULK_ROWS


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Row]) -> None:
    """PostgreSQL only: COPY rows that cannot conflict, however few."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    # The driver's own cursor, so its errors are turned into Django's here.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
