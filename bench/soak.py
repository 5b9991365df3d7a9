"""Soak test: ingestion, triage and 200 stream listeners at once, then a full reconciliation.

    .venv/bin/python bench/soak.py [--seconds 300] [--clients 8] [--listeners 200]
                                   [--database sqlite|postgres]

Clients send batches and single events (with already-sent ids mixed in), an admin
acknowledges open alerts, and WebSocket clients listen. Afterwards: events stored ==
distinct ids sent; every alert's event_count == its linked events; every change is in
the history and reached every listener. Prints throughput, statuses, latencies and
server memory over time.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import RULES_SCRIPT, Stream, load_events
from bench.server import Connection, daphne, manage, percentile, reset_database, token

PASSWORD = "bench-password-not-secret-1234"
RECONCILE = """
import json
from django.db.models import Count, F
from secalerts.alerts.models import Alert, AlertHistory
from secalerts.events.models import Event
wrong = Alert.objects.annotate(n=Count("events")).exclude(event_count=F("n")).count()
print(json.dumps({"events": Event.objects.count(), "alerts": Alert.objects.count(),
                  "count_mismatches": wrong,
                  "history": list(AlertHistory.objects.filter(field="status").values_list("alert_id", flat=True))}))
"""


async def main(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect

    url = reset_database(args.database, "bench_soak")
    for name, role in (("bench", "analyst"), ("boss", "admin")):
        manage(url, "create_user", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
    # The ingest benchmark's rules: the OpenSSH attack traffic raises and extends alerts.
    manage(url, "shell", "-c", RULES_SCRIPT)
    stream = Stream(load_events())
    sent: set[str] = set()
    statuses: Counter[str] = Counter()
    latencies: dict[str, list[float]] = {"batch": [], "single": [], "triage": []}
    changed: list[int] = []
    received: list[set[int]] = []
    created: list[set[int]] = []
    rss: list[tuple[float, float]] = []
    accepted = 0

    with daphne(url) as server:
        reader = await token(server.port, "bench", PASSWORD)
        admin = await token(server.port, "boss", PASSWORD)
        deadline = time.perf_counter() + args.seconds
        started = time.perf_counter()

        async def ingest(client: int) -> None:
            nonlocal accepted
            rng = random.Random(client)
            conn = await Connection(server.port).open()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {reader}"}
            while time.perf_counter() < deadline:
                single = rng.random() < 0.3
                events = [stream.next() for _ in range(1 if single else 100)]
                if sent and rng.random() < 0.2:  # a shipper retrying what it sent before
                    events[0]["id"] = rng.choice(tuple(sent))
                body = json.dumps(events[0] if single else events).encode()
                t0 = time.perf_counter()
                status, answer = await conn.request("POST", "/api/events/", body, headers)
                latencies["single" if single else "batch"].append(time.perf_counter() - t0)
                statuses[f"ingest {status}"] += 1
                if status in (200, 201):
                    sent.update(e["id"] for e in events)
                    accepted += (
                        1 if single and status == 201 else json.loads(answer).get("accepted", 0)
                    )
            conn.close()

        async def triage() -> None:
            conn = await Connection(server.port).open()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {admin}"}
            while time.perf_counter() < deadline:
                await asyncio.sleep(0.5)
                status, answer = await conn.request(
                    "GET", "/api/alerts/?status=open&page_size=5", b"", headers
                )
                if status != 200 or not json.loads(answer)["results"]:
                    continue
                alert_id = json.loads(answer)["results"][0]["id"]
                t0 = time.perf_counter()
                status, _ = await conn.request(
                    "PATCH", f"/api/alerts/{alert_id}/", b'{"status": "acknowledged"}', headers
                )
                latencies["triage"].append(time.perf_counter() - t0)
                statuses[f"triage {status}"] += 1
                if status == 200:
                    changed.append(alert_id)
            conn.close()

        async def listen(ws, seen: set[int], raised: set[int]) -> None:
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    if message.get("type") == "alert.created":
                        raised.add(message["alert"]["id"])
                    if (
                        message.get("type") == "alert.updated"
                        and message["alert"]["status"] == "acknowledged"
                    ):
                        seen.add(message["alert"]["id"])
            except Exception:  # closed at the end
                return

        async def sample() -> None:
            while time.perf_counter() < deadline:
                rss.append((time.perf_counter() - started, server.rss_mib()))
                await asyncio.sleep(max(1.0, args.seconds / 20))

        sockets = [
            await connect(f"ws://127.0.0.1:{server.port}/ws/alerts/?token={reader}")
            for _ in range(args.listeners)
        ]
        received = [set() for _ in sockets]
        created = [set() for _ in sockets]
        listeners = [
            asyncio.create_task(listen(ws, seen, raised))
            for ws, seen, raised in zip(sockets, received, created, strict=True)
        ]
        await asyncio.gather(*(ingest(c) for c in range(args.clients)), triage(), sample())
        await asyncio.sleep(2)  # let the last pushes arrive
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*listeners)
        elapsed = time.perf_counter() - started
        rss.append((elapsed, server.rss_mib()))

    facts = json.loads(
        manage(url, "shell", "--no-imports", "-c", RECONCILE).strip().splitlines()[-1]
    )
    history = Counter(facts["history"])
    missing_history = sum(1 for alert_id in changed if history[alert_id] < changed.count(alert_id))
    missing_pushes = sum(len(set(changed) - seen) for seen in received)
    missing_created = sum(facts["alerts"] - len(raised) for raised in created)
    print(
        f"cores {os.cpu_count()}, {args.seconds:.0f} s, {args.clients} ingest clients, {args.listeners} listeners, {args.database}"
    )
    print(
        f"  events accepted {accepted:,} ({accepted / elapsed:,.0f}/s); requests {dict(statuses)}"
    )
    for kind, values in latencies.items():
        ms = [v * 1000 for v in values]
        print(
            f"  {kind:<7} n={len(ms):<6} p50 {percentile(ms, 50):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms"
        )
    print("  server RSS MiB over time: " + ", ".join(f"{t:.0f}s={m:.0f}" for t, m in rss))
    checks = {
        "alerts were raised and changed (the checks below are not vacuous)": facts["alerts"] > 0
        and len(changed) > 0,
        "events stored == distinct ids sent": facts["events"] == len(sent),
        "event_count == linked events for every alert": facts["count_mismatches"] == 0,
        "every status change in history": missing_history == 0,
        "every change pushed to every listener": missing_pushes == 0,
        "every new alert pushed to every listener": missing_created == 0,
    }
    print(
        f"  stored {facts['events']:,} / sent {len(sent):,}; alerts {facts['alerts']:,}; changes {len(changed)};"
        f" count mismatches {facts['count_mismatches']}; missing pushes: changes {missing_pushes},"
        f" new alerts {missing_created}"
    )
    for name, ok in checks.items():
        print(f"  {'OK  ' if ok else 'FAIL'} {name}")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    asyncio.run(main(parser.parse_args()))
