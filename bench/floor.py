"""Storage floor: how fast the database alone takes 1000-event batches into the events table.

The raw driver writes the benchmark's events into the real, migrated `events_event`
table (its primary key and five list indexes), one transaction and commit per batch:
`executemany` on SQLite, `COPY` on PostgreSQL (the fastest path each offers). No HTTP,
authentication, validation, rules or alerts, so no server can ingest faster than this.

Beside it, the same rows into a bare table: the events' columns with no key, index or
constraint. Rows per second of that kind are what the ingest issue's figures
for scale were (the raw driver's executemany "about 128,000" on SQLite); the
difference between the two is what the primary key over client-chosen UUIDs and the
list filters' indexes cost.

    .venv/bin/python bench/floor.py [--batches 100] [--databases sqlite,postgres]
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import reset_database

COLUMNS = (
    "id, timestamp, received_at, event_type, severity, source, source_ip, destination_ip, "
    "destination_port, username, message, data"
)


def storage_floor(kind: str, batches: list[list[dict]], *, bare: bool = False) -> float:
    """Events per second the raw driver stores, batch by batch, into a fresh events table
    (or, `bare`, into a table of its columns alone)."""
    url = reset_database(kind, "bench_floor")
    table = _bare_table(kind, url) if bare else "events_event"
    write = _sqlite_writer(url, table) if kind == "sqlite" else _postgres_writer(url, table)
    elapsed = 0.0
    for batch in batches:
        received = datetime.now(UTC)
        started = time.perf_counter()
        write(batch, received)
        elapsed += time.perf_counter() - started
    return sum(len(batch) for batch in batches) / elapsed


def _bare_table(kind: str, url: str) -> str:
    """A copy of the events table's columns: no primary key, index or check."""
    if kind == "sqlite":
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("CREATE TABLE bare_event AS SELECT * FROM events_event WHERE 0")
        conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as pg:
            pg.execute("CREATE TABLE bare_event (LIKE events_event)")
    return "bare_event"


def _sqlite_writer(url: str, table: str):
    # The server's PRAGMAs (security_backend/settings.py) and its IMMEDIATE transactions.
    conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    conn.executescript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000; "
        "PRAGMA cache_size=-32768;"
    )
    sql = f"INSERT INTO {table} ({COLUMNS}) VALUES ({', '.join(['?'] * 12)})"

    def write(batch: list[dict], received: datetime) -> None:
        stamp = received.replace(tzinfo=None).isoformat(" ")
        rows = [
            (
                event["id"].replace("-", ""),
                datetime.fromisoformat(event["timestamp"]).replace(tzinfo=None).isoformat(" "),
                stamp,
                *_fields(event),
            )
            for event in batch
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    return write


def _postgres_writer(url: str, table: str):
    import psycopg

    conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1))

    def write(batch: list[dict], received: datetime) -> None:
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy,
        ):
            for event in batch:
                copy.write_row((event["id"], event["timestamp"], received, *_fields(event)))
        conn.commit()

    return write


def _fields(event: dict) -> tuple:
    return (
        event["event_type"],
        event.get("severity", "info"),
        event["source"],
        event.get("source_ip"),
        event.get("destination_ip"),
        event.get("destination_port"),
        event.get("username"),
        event.get("message"),
        json.dumps(event.get("data", {})),
    )


def main() -> None:
    from bench.ingest import Stream, load_events

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    stream = Stream(load_events())
    batches = [[stream.next() for _ in range(1000)] for _ in range(args.batches)]
    print(f"cores: {os.cpu_count()}; {args.batches} batches of 1000 loghub events, raw driver")
    for kind in args.databases.split(","):
        rate, bare = storage_floor(kind, batches), storage_floor(kind, batches, bare=True)
        print(
            f"  {kind:<9} storage floor {rate:>10,.0f} events/s;"
            f" bare table (no key or index) {bare:>10,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
