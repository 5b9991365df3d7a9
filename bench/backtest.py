"""Backtest benchmark: one rule over 1,000,000 stored events on PostgreSQL, through the
real HTTP endpoint (POST /api/rules/{id}/backtest/ on a Daphne server).

The events are made by the database itself (INSERT ... SELECT generate_series), not
through the API: four event types a quarter each, 100 source IPs, one event every 0.1 s
of event time (about 28 hours). Rules timed:

- typed threshold: `ssh.auth.failed_password` 5 times in 60 s per source_ip (the event
  type goes into the SQL: a quarter of the events are read);
- untyped plain: a `message` contains test, no event type (every event is read);
- untyped threshold: every event matches and is counted per source_ip (the worst case:
  every event read, matched and windowed).

Beside them, the floor: the same rows and columns read by the raw driver alone (psycopg,
the same keyset queries, no event dicts, no rules): every column, and only those the
untyped plain rule needs.

    .venv/bin/python bench/backtest.py [--events 1000000]
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import (
    Connection,
    daphne,
    database_url,
    machine_speed,
    manage,
    reset_database,
    token,
)

PASSWORD = "bench-password-not-secret-1234"
DATABASE = "bench_backtest_ruletest"
START = "2026-01-01T00:00:00Z"

GENERATE = """
INSERT INTO events_event (id, timestamp, received_at, event_type, severity, source,
                          source_ip, username, message, data)
SELECT gen_random_uuid(),
       %(start)s::timestamptz + g * interval '100 milliseconds',
       now(),
       (ARRAY['ssh.auth.failed_password', 'ssh.auth.invalid_user',
              'ssh.connection.closed', 'pam.auth.failure'])[g %% 4 + 1],
       'info',
       'sshd-' || (g %% 50),
       ('10.0.' || (g %% 100) || '.1')::inet,
       'user' || (g %% 1000),
       'Failed password for user' || (g %% 1000) || ' from 10.0.' || (g %% 100) || '.1',
       jsonb_build_object('pid', g %% 65536)
FROM generate_series(0, %(count)s - 1) AS g
"""

RULES = {
    "typed threshold": {
        "severity": "high",
        "condition": {"field": "event_type", "op": "eq", "value": "ssh.auth.failed_password"},
        "group_by": ["source_ip"],
        "threshold": {"count": 5, "window_seconds": 60},
    },
    "untyped plain": {
        "severity": "low",
        "condition": {"field": "message", "op": "contains", "value": "user7 "},
    },
    "untyped threshold": {
        "severity": "medium",
        "condition": {"field": "message", "op": "startswith", "value": "Failed"},
        "group_by": ["source_ip"],
        "threshold": {"count": 5, "window_seconds": 60},
    },
}

RULES_SCRIPT = """
import json, sys
from secalerts.rules.models import Rule
from secalerts.rules.services import create_rule
Rule.objects.all().delete()
ids = {name: create_rule(name=name, **fields).pk for name, fields in json.loads(sys.stdin.read()).items()}
print(json.dumps(ids))
"""


def generate(url: str, count: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(GENERATE, {"start": START, "count": count})
        conn.execute("ANALYZE events_event")
    return time.perf_counter() - started


def read_floor(url: str, columns: list[str], *, chunk: int = 5000) -> tuple[float, int]:
    """(seconds to read these columns of every event by keyset with psycopg, rows)."""
    import psycopg

    sql = (
        f"SELECT {', '.join(columns)} FROM events_event WHERE timestamp >= %s "
        "AND timestamp >= %s AND (timestamp > %s OR id > %s) ORDER BY timestamp, id LIMIT %s"
    )
    rows_read = 0
    started = time.perf_counter()
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
        # As Django reads them: JSON and addresses as text (the backtest decodes data
        # itself), not parsed by the driver.
        for name in ("jsonb", "inet"):
            conn.adapters.register_loader(name, psycopg.types.string.TextLoader)
        after = ("-infinity", "00000000-0000-0000-0000-000000000000")
        while True:
            params = [START, after[0], after[0], after[1], chunk]
            rows = conn.execute(sql, params).fetchall()
            if not rows:
                break
            rows_read += len(rows)
            after = (rows[-1][1], rows[-1][0])
    return time.perf_counter() - started, rows_read


async def backtest(port: int, access: str, rule_id: int) -> tuple[float, dict]:
    conn = await Connection(port).open()
    body = json.dumps({"since": START, "until": "2027-01-01T00:00:00Z"}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
    started = time.perf_counter()
    status, answer = await conn.request("POST", f"/api/rules/{rule_id}/backtest/", body, headers)
    elapsed = time.perf_counter() - started
    conn.close()
    if status != 200:
        raise RuntimeError(f"backtest answered {status}: {answer[:300]!r}")
    return elapsed, json.loads(answer)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the last run's events")
    args = parser.parse_args()

    print(f"machine speed: {machine_speed()}")
    if args.reuse:
        url = database_url("postgres", DATABASE)
    else:
        url = reset_database("postgres", DATABASE)
        print(f"generated {args.events:,} events in {generate(url, args.events):.1f} s (SQL)")
        manage(url, "create_user", "bench", "--role", "admin", "--password-stdin",
               stdin=PASSWORD + "\n")  # fmt: skip
    output = manage(url, "shell", "--no-imports", "-c", RULES_SCRIPT, stdin=json.dumps(RULES))
    ids = json.loads(output.strip().splitlines()[-1])
    from secalerts.detection.schema import SENT_FIELDS

    every = [name for name in SENT_FIELDS if name != "received_by"]
    raw, rows = read_floor(url, every)
    narrow, _ = read_floor(url, ["id", "timestamp", "severity", "source_ip", "message"])
    print(f"floor: psycopg reads {rows:,} rows by keyset in {raw:.2f} s (every column), "
          f"{narrow:.2f} s (id, timestamp, severity, source_ip, message)")  # fmt: skip

    env = {"BACKTEST_MAX_SECONDS": "600", "BACKTEST_MAX_EVENTS": str(args.events)}
    with daphne(url, env=env) as server:
        access = asyncio.run(token(server.port, "bench", PASSWORD))
        for name, rule_id in ids.items():
            elapsed, answer = asyncio.run(backtest(server.port, access, rule_id))
            print(
                f"{name:18}: {elapsed:6.2f} s over HTTP; scanned {answer['events_scanned']:,}, "
                f"matched {answer['events_matched']:,}, alerts {answer['alert_count']:,}; "
                f"{answer['events_scanned'] / elapsed:,.0f} events/s; x{elapsed / raw:.1f} "
                f"the raw read of all rows; server RSS {server.rss_mib():.0f} MiB"
            )


if __name__ == "__main__":
    main()
