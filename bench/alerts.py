"""Alert list and WebSocket delivery benchmark on real Daphne processes.

    .venv/bin/python bench/alerts.py [--pg-alerts 1000000] [--sqlite-alerts 100000]
                                     [--requests 200] [--rounds 20] [--only list|ws]

List latency (p50/p99 over HTTP) for the first page, each filter, a combined filter
and a page 1,000 pages deep; then, with Redis and two Daphne processes, the time from
the start and the end of a POST /api/events/ that raises an alert to its arrival at
1, 100 and 1,000 connected clients (also while both servers ingest batches), and
server memory per connected client.
"""

import argparse
import asyncio
import base64
import gc
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import Stream, load_events
from bench.server import (
    Connection,
    StreamListener,
    daphne,
    manage,
    percentile,
    reset_database,
    token,
)

PASSWORD = "bench-password-not-secret-1234"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

POSTGRES_FILL = """
from django.db import connection
from secalerts.rules.models import Rule
rule = Rule.objects.get(name="Brute-force login")
with connection.cursor() as c:
    c.execute('''
        INSERT INTO alerts_alert (title, description, severity, severity_rank, status, rule_id,
            "group", group_key, source_ip, event_count, first_seen, last_seen, assigned_to_id,
            created_at, updated_at)
        SELECT 'Brute-force login: 10.' || (i %% 250) || '.' || (i %% 199) || '.1', '',
            (ARRAY['info','low','medium','high','critical'])[1 + i %% 5], i %% 5,
            (ARRAY['open','acknowledged','resolved','false_positive'])[1 + i %% 4],
            CASE WHEN i %% 20 = 0 THEN %s END, '{}', md5(i::text),
            ('10.' || (i %% 250) || '.' || (i %% 199) || '.1')::inet, 5,
            now() - (%s - i) * interval '1 second', now() - (%s - i) * interval '1 second',
            CASE WHEN i %% 10 = 0 THEN 1 END,
            now() - (%s - i) * interval '1 second', now() - (%s - i) * interval '1 second'
        FROM generate_series(1, %s) AS i''', [rule.pk, N, N, N, N, N])
    c.execute("VACUUM ANALYZE alerts_alert")
"""

SQLITE_FILL = """
from datetime import timedelta
from django.db import connection, transaction
from django.utils import timezone
from secalerts.rules.models import Rule
rule = Rule.objects.get(name="Brute-force login")
levels = ["info", "low", "medium", "high", "critical"]
statuses = ["open", "acknowledged", "resolved", "false_positive"]
now = timezone.now()
def row(i):
    ip = f"10.{i % 250}.{i % 199}.1"
    stamp = (now - timedelta(seconds=N - i)).replace(tzinfo=None).isoformat(sep=" ")
    return (f"Brute-force login: {ip}", "", levels[i % 5], i % 5, statuses[i % 4],
            rule.pk if i % 20 == 0 else None, "{}", f"{i:064x}", ip, 5, stamp, stamp,
            1 if i % 10 == 0 else None, stamp, stamp)
with transaction.atomic(), connection.cursor() as c:
    c.executemany('''INSERT INTO alerts_alert (title, description, severity, severity_rank,
        status, rule_id, "group", group_key, source_ip, event_count, first_seen, last_seen,
        assigned_to_id, created_at, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)''',
        [row(i) for i in range(1, N + 1)])
    c.execute("ANALYZE")
"""

DEPTH_SCRIPT = """
from secalerts.alerts.models import Alert
depth = min(50 * 1000, Alert.objects.count() // 2)
row = Alert.objects.order_by("-created_at", "-id").values("created_at", "id")[depth - 1]
print(row["created_at"].isoformat(), row["id"])
"""


def cursor_at(url: str) -> str:
    stamp, row_id = manage(url, "shell", "--no-imports", "-c", DEPTH_SCRIPT).split()
    return base64.urlsafe_b64encode(json.dumps({"v": stamp, "i": int(row_id)}).encode()).decode()


async def list_latencies(port: int, access: str, paths: dict[str, str], requests: int) -> None:
    conn = await Connection(port).open()
    headers = {"Authorization": f"Bearer {access}"}
    for label, path in paths.items():
        times, statuses = [], set()
        for _ in range(requests):
            started = time.perf_counter()
            status, _ = await conn.request("GET", path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            statuses.add(status)
        print(
            f"  {label:<28} p50 {percentile(times, 50):6.1f} ms  p99 {percentile(times, 99):6.1f} ms"
            f"  statuses {sorted(statuses)}"
        )
    conn.close()


async def bench_list(kind: str, count: int, requests: int) -> None:
    print(f"\n== alert list, {kind}, {count:,} alerts")
    url = reset_database(kind, "bench_alerts")
    manage(
        url, "create_user", "bench", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    started = time.perf_counter()
    fill = f"N = {count}\n" + (POSTGRES_FILL if kind == "postgres" else SQLITE_FILL)
    manage(url, "shell", "--no-imports", "-c", fill)
    print(f"  filled in {time.perf_counter() - started:.0f} s")
    deep = cursor_at(url)
    paths = {
        "first page": "/api/alerts/",
        "status=open": "/api/alerts/?status=open",
        "severity=high,critical": "/api/alerts/?severity=high&severity=critical",
        "rule": "/api/alerts/?rule=2",
        "assigned_to": "/api/alerts/?assigned_to=bench",
        "source_ip": "/api/alerts/?source_ip=10.7.7.1",
        "search=10.7.": "/api/alerts/?search=10.7.",
        "created_after (last hour)": "/api/alerts/?created_after="
        + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600)),
        "ordering=-severity": "/api/alerts/?ordering=-severity",
        "ordering=last_seen": "/api/alerts/?ordering=last_seen",
        "acknowledged+critical+24h": "/api/alerts/?status=acknowledged&severity=critical&created_after="
        + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400)),
        "1,000 pages deep": f"/api/alerts/?cursor={deep}",
    }
    with daphne(url) as server:
        access = await token(server.port, "bench", PASSWORD)
        print(f"  server RSS {server.rss_mib():.0f} MiB")
        await list_latencies(server.port, access, paths, requests)


async def bench_stream(rounds: int) -> None:
    print("\n== WebSocket delivery, PostgreSQL + Redis, two Daphne processes")
    url = reset_database("postgres", "bench_stream")
    manage(
        url, "create_user", "bench", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    redis = {"REDIS_URL": REDIS_URL}
    with daphne(url, env=redis) as first, daphne(url, env=redis) as second:
        access = await token(first.port, "bench", PASSWORD)
        poster = await Connection(first.port).open()
        headers = {"Authorization": f"Bearer {access}", "Content-Type": "application/json"}
        sockets: list = []

        async def measure(clients: int, label: str) -> None:
            before = (first.rss_mib(), second.rss_mib())
            while len(sockets) < clients:
                server = (first, second)[len(sockets) % 2]
                sockets.append(
                    await StreamListener.connect(server.port, f"/ws/alerts/?token={access}")
                )
            after = (first.rss_mib(), second.rss_mib())
            added = clients - (clients // 10 if clients > 1 else 0)
            from_start: list[float] = []
            from_end: list[float] = []
            # This client holds every socket: its own garbage collection pauses would
            # be counted as delivery time, so it collects between rounds instead.
            gc.disable()
            for round_no in range(-1, rounds):  # round -1 warms up and is not counted
                source = f"edr-{label}-{round_no}"
                body = json.dumps({"event_type": "malware.detected", "source": source}).encode()
                waiters = [ws.expect(f'"source":"{source}"') for ws in sockets]
                started = time.perf_counter()
                await poster.request("POST", "/api/events/", body, headers)
                posted = time.perf_counter()
                arrivals = await asyncio.wait_for(asyncio.gather(*waiters), timeout=30)
                if round_no >= 0:
                    from_start += [(arrival - started) * 1000 for arrival in arrivals]
                    from_end += [(arrival - posted) * 1000 for arrival in arrivals]
                gc.collect()
            gc.enable()
            per_client = ((after[0] + after[1]) - (before[0] + before[1])) * 1024 / max(1, added)
            print(
                f"  {label:<24} from POST start p50 {percentile(from_start, 50):5.1f} ms"
                f" p99 {percentile(from_start, 99):5.1f} ms; from its end p50"
                f" {percentile(from_end, 50):5.1f} ms p99 {percentile(from_end, 99):5.1f} ms;"
                f" RSS {after[0]:.0f}+{after[1]:.0f} MiB (~{per_client:.0f} KiB/added client)"
            )

        for clients in (1, 100, 1000):
            await measure(clients, f"{clients} clients")
        # The same with both servers ingesting batches of the OpenSSH replay meanwhile.
        stream = Stream(load_events())
        batches = [
            "\n".join(json.dumps(stream.next()) for _ in range(1000)).encode() for _ in range(250)
        ]
        ingest_headers = headers | {"Content-Type": "application/x-ndjson"}
        ingested = [0]
        busy = True

        async def ingest(server) -> None:
            conn = await Connection(server.port).open()
            while busy and batches:
                status, _ = await conn.request(
                    "POST", "/api/events/", batches.pop(), ingest_headers
                )
                ingested[0] += 1000 if status == 201 else 0
            conn.close()

        feeders = [asyncio.create_task(ingest(server)) for server in (first, second)]
        await asyncio.sleep(1)
        started, before = time.perf_counter(), ingested[0]
        await measure(1000, "1000 clients + ingesting")
        rate = (ingested[0] - before) / (time.perf_counter() - started)
        left = len(batches)
        busy = False
        await asyncio.gather(*feeders)
        verdict = "throughout" if left else "RAN OUT of prepared batches: raise their number"
        print(f"  (ingestion during that round: {rate:,.0f} events/s, {verdict})")
        for ws in sockets:
            ws.close()
        poster.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-alerts", type=int, default=1_000_000)
    parser.add_argument("--sqlite-alerts", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", choices=["list", "ws"], help="run one part only")
    args = parser.parse_args()
    print(
        f"cores: {os.cpu_count()}; targets: list p99 <= 20 ms at 1M on PostgreSQL, delivery p99 <= 50 ms"
    )
    if args.only != "ws":
        asyncio.run(bench_list("postgres", args.pg_alerts, args.requests))
        asyncio.run(bench_list("sqlite", args.sqlite_alerts, args.requests))
    if args.only != "list":
        asyncio.run(bench_stream(args.rounds))


if __name__ == "__main__":
    main()
