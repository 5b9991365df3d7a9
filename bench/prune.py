"""Retention benchmark on PostgreSQL: prune N events spread over 100 days down to 90.

    .venv/bin/python bench/prune.py [--events 10000000] [--days 100] [--ingest-batches 30]

1. A fresh database (bench_prune), one day partition for each of the last `--days`
   days (as the daily job would have made them), `--events` events spread evenly over
   them, written by INSERT .. SELECT generate_series (with their id rows), and one alert
   link per thousand events.
2. `prune` to 90 days, timed, while two other connections keep going: one ingesting
   single events through the real ingest path, one reading the event list's first page.
   Their statements' latencies during the prune are printed beside the same measured
   for as long before it (the baseline), with the partitions dropped.
3. The ingest path, partitioned against the plain table of the commit before (filled
   with the same events):
   `ingest_events` with batches of 1000 events, the two databases alternated, events/s
   best of the runs.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import machine_speed, manage, reset_database

DAY = timedelta(days=1)


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "security_backend.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def fill(events: int, days: int, now: datetime) -> float:
    from django.db import connection

    from secalerts.alerts.models import Alert
    from secalerts.events import partitions
    from secalerts.rules.models import Rule

    for back in range(days, 0, -1):
        partitions.ensure_partitions(now=now - back * DAY, days_ahead=0)
    started = time.perf_counter()
    span = days * 86400
    alert = Alert.objects.create(
        title="bench",
        severity="high",
        group_key="k",
        first_seen=now,
        last_seen=now,
        created_at=now,
        updated_at=now,
        rule=Rule.objects.create(
            name="bench",
            enabled=False,
            condition={"field": "event_type", "op": "eq", "value": "never"},
        ),
    ).pk
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO events_event (id, "timestamp", received_at, event_type, severity, source,
                source_ip, username, message, data)
            SELECT gen_random_uuid(), %s - (i::float8 * %s / %s) * interval '1 second', %s,
                'ssh.kind' || (i %% 8), 'info', 'host-' || (i %% 20),
                ('10.' || (i %% 250) || '.' || (i %% 200) || '.1')::inet,
                CASE WHEN i %% 2 = 0 THEN 'user' || (i %% 300) END, 'Failed password', '{}'
            FROM generate_series(1, %s) AS i
            """,
            [now, span, events, now, events],
        )
        cursor.execute(
            'INSERT INTO events_event_id (id, "timestamp") SELECT id, "timestamp" FROM events_event'
        )
        cursor.execute(
            "INSERT INTO alerts_alertevent (alert_id, event_id) "
            "SELECT %s, id FROM events_event_id TABLESAMPLE SYSTEM (0.1)",
            [alert],
        )
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def fill_plain(url: str, events: int, days: int, now: datetime) -> None:
    """The same events in the plain table: the ingest comparison writes to equal tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO events_event (id, "timestamp", received_at, event_type, severity, source,
                source_ip, username, message, data)
            SELECT gen_random_uuid(), %s - (i::float8 * %s / %s) * interval '1 second', %s,
                'ssh.kind' || (i %% 8), 'info', 'host-' || (i %% 20),
                ('10.' || (i %% 250) || '.' || (i %% 200) || '.1')::inet,
                CASE WHEN i %% 2 = 0 THEN 'user' || (i %% 300) END, 'Failed password', '{}'
            FROM generate_series(1, %s) AS i
            """,
            [now, days * 86400, events, now, events],
        )
        conn.execute("ANALYZE")


class Load:
    """Two connections at work while something else runs: latencies of each statement."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.inserts: list[float] = []
        self.selects: list[float] = []

    def __enter__(self) -> "Load":
        self.threads = [
            threading.Thread(target=self._ingest),
            threading.Thread(target=self._read),
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def _ingest(self) -> None:
        from django.db import connection

        from secalerts.events.validation import validate_events
        from secalerts.ingest.service import ingest_events

        while not self.stop.is_set():
            body = json.dumps([{"event_type": "new", "source": "bench"}]).encode()
            events = validate_events(
                body, "application/json", max_batch=1, max_bytes=10**6, now=datetime.now(UTC)
            )[0]
            started = time.perf_counter()
            ingest_events(events=events)
            self.inserts.append(time.perf_counter() - started)
        connection.close()

    def _read(self) -> None:
        from django.db import connection

        from secalerts.events.models import Event

        while not self.stop.is_set():
            started = time.perf_counter()
            list(Event.objects.order_by("-timestamp", "-id")[:50])
            self.selects.append(time.perf_counter() - started)
        connection.close()


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name}: {len(values)} statements, median {1000 * statistics.median(values):.1f} ms, "
        f"p99 {1000 * p99:.1f} ms, longest {1000 * max(values):.1f} ms"
    )


def bench_prune(now: datetime) -> None:
    from django.db import connection

    from secalerts.jobs import retention

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_event'::regclass"
        )
        before_parts = cursor.fetchone()[0]
    with Load() as baseline:
        started = time.perf_counter()
        while time.perf_counter() - started < 10:
            time.sleep(0.1)
    with Load() as load:
        started = time.perf_counter()
        result = retention.prune(now=now, events_days=90, closed_alerts_days=365)
        took = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events_event")
        left = cursor.fetchone()[0]
    print(f"prune to 90 days: {took:.1f} s, {result['events']:,} events removed, {left:,} left")
    print(
        f"  partitions: {before_parts} before, {len(result['partitions_dropped'])} dropped "
        f"({', '.join(result['partitions_dropped'][:2])} ...)"
    )
    print("  while idle (10 s baseline):")
    print(f"    {summary('ingest of one event', baseline.inserts)}")
    print(f"    {summary('event list first page', baseline.selects)}")
    print("  during the prune:")
    print(f"    {summary('ingest of one event', load.inserts)}")
    print(f"    {summary('event list first page', load.selects)}")


def bench_ingest(partitioned_url: str, plain_url: str, batches: int) -> None:
    """Alternating the two databases on one connection setting each time."""
    from django.db import connection, connections

    from secalerts.events import partitions
    from secalerts.events.validation import validate_events
    from secalerts.ingest.service import ingest_events

    rates: dict[str, list[float]] = {"partitioned": [], "plain": []}
    real = partitions.is_partitioned
    # In rounds, each database in turn on a connection kept (as a server keeps it: the
    # first statements of a connection load the partitions' catalog entries), its first
    # batch a warm-up.
    for _round in range(3):
        for name, url in (("partitioned", partitioned_url), ("plain", plain_url)):
            connections.close_all()
            connection.settings_dict["NAME"] = url.rsplit("/", 1)[1]
            # The plain table takes the path of the commit before (the SQLite one).
            partitions.is_partitioned = real if name == "partitioned" else (lambda *_: False)
            for number in range(batches // 3 + 1):
                now = datetime.now(UTC)
                items = [
                    {
                        "id": str(uuid.uuid4()),
                        "event_type": f"ssh.kind{i % 8}",
                        "source": "bench",
                        "source_ip": f"10.{i % 250}.{number % 200}.1",
                        "username": f"user{i % 300}",
                        "message": "Failed password for invalid user",
                        "timestamp": (now - timedelta(seconds=i)).isoformat(),
                    }
                    for i in range(1000)
                ]
                events = validate_events(
                    json.dumps(items).encode(),
                    "application/json",
                    max_batch=1000,
                    max_bytes=10**7,
                    now=now,
                )[0]
                started = time.perf_counter()
                ingest_events(events=events)
                if number:
                    rates[name].append(1000 / (time.perf_counter() - started))
    partitions.is_partitioned = real
    part, plain = (sorted(rates[n])[len(rates[n]) // 2] for n in ("partitioned", "plain"))
    print(f"ingest_events, batches of 1000, {batches} each, alternated (median events/s):")
    print(f"  plain table (before): {plain:,.0f}")
    print(f"  partitioned + id table: {part:,.0f}  ({part / plain:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--ingest-batches", type=int, default=30)
    args = parser.parse_args()
    print(machine_speed())
    url = reset_database("postgres", "bench_prune")
    plain_url = reset_database("postgres", "bench_prune_plain")
    manage(plain_url, "migrate", "events", "0003", "--noinput", "-v0")
    setup_django(url)
    now = datetime.now(UTC)
    took = fill(args.events, args.days, now)
    print(f"filled {args.events:,} events over {args.days} days in {took:.0f} s")
    fill_plain(plain_url, args.events, args.days, now)
    bench_prune(now)
    if args.ingest_batches:
        bench_ingest(url, plain_url, args.ingest_batches)


if __name__ == "__main__":
    main()
