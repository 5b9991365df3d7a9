"""Ingestion benchmark: a real Daphne over SQLite and PostgreSQL, single events and batches.

The 100 extra match rules look like real ones (specific users, networks, process ids,
message fragments): a few of them match the replayed OpenSSH attack traffic, most
do not. The 10 threshold rules count failed passwords and invalid users per source IP.

    .venv/bin/python bench/ingest.py [--scale 500] [--seconds 20] [--databases sqlite,postgres]
                                     [--workers 1,2] [--base CHECKOUT]

Prints requests/s and latency for single-event POSTs (1 and 16 clients), the seed's own
workload beside them (single events from 16 clients, half of them high or critical from
a sensor never seen before, so that each raises a new alert through the shipped
"High-severity event" rule; its rate is compared with the replay's), events/s for
batches of 1000 (JSON array and NDJSON) with the default rules plus 100 match rules and
10 threshold rules, server memory before and after, and checks that the number of
events stored equals the number sent; with one Daphne process and with several behind
one port (`manage.py serve --workers N`, with Redis). First, per database, the storage
floor (bench/floor.py): what the raw driver alone stores, the ceiling for any server.
With `--base`, a checkout of other code (an export of an earlier commit) is measured
the same way right before this code, on a fresh database each, and each figure's
ratio this/base is printed.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.floor import storage_floor
from bench.server import (
    ROOT,
    Connection,
    daphne,
    machine_speed,
    manage,
    percentile,
    reset_database,
    token,
)

DATASET = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "loghub_openssh" / "events.ndjson"
)
PASSWORD = "bench-password-not-secret-1234"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

RULES_SCRIPT = """
from secalerts.rules.services import create_rule
types = ["ssh.auth.failed_password", "ssh.auth.invalid_user",
         "ssh.connection.closed", "pam.auth.failure"]
for i in range(100):
    leaf = {"field": "event_type", "op": "eq", "value": types[i % 4]}
    network = "5.188.10.0/24" if i < 10 else f"10.{i}.0.0/16"
    extra = [
        {"field": "message", "op": "contains", "value": f"user{i}"},
        {"field": "source_ip", "op": "cidr", "value": network},
        {"field": "data.pid", "op": "gt", "value": 30000 + i * 10},
        {"field": "username", "op": "in", "value": [f"admin{i}", f"oracle{i}"]},
    ][i % 4]
    create_rule(name=f"bench match {i}", severity="low", condition={"all": [leaf, extra]},
                group_by=["source_ip"])
for i in range(10):
    threshold = {"count": 5 + i, "window_seconds": 60 + 30 * i}
    if i % 2:
        threshold["distinct_field"] = "username"
    create_rule(name=f"bench threshold {i}", severity="high",
                condition={"field": "event_type", "op": "eq", "value": types[i % 2]},
                group_by=["source_ip"], threshold=threshold)
"""
# The ingest issue's figures for scale, measured where its targets were set: the raw
# driver's executemany into SQLite, COPY into PostgreSQL (rows/s).
SCALE_FIGURES = {"sqlite": 128_000, "postgres": 86_000}
COUNT_SCRIPT = "from secalerts.events.models import Event; print(Event.objects.count())"


def load_events() -> list[dict]:
    if not DATASET.exists():
        sys.exit(f"dataset {DATASET} is missing (../shared/datasets beside the checkout)")
    return [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]


def seed_event(n: int) -> dict:
    """The original brief's kind of event: every other one high or critical, and from its
    own source, so that the "High-severity event" rule (grouped by source and type) raises
    a new alert for each of those."""
    severity = ("high", "critical", "low", "info")[n % 4]
    return {
        "id": str(uuid.uuid4()),
        "timestamp": (datetime.now(UTC) - timedelta(seconds=n % 3600)).isoformat(),
        "source": f"sensor-{uuid.uuid4().hex[:12]}" if severity in ("high", "critical") else "ids",
        "event_type": ("ids.alert", "auth.failure", "net.flow", "malware.detected")[n % 3],
        "severity": severity,
        "source_ip": f"198.51.{n // 250 % 256}.{n % 250 + 1}",
        "destination_ip": "10.0.0.5",
        "data": {"signature": f"rule {n % 97}", "bytes": n * 7 % 65536},
    }


class Stream:
    """Dataset events with fresh ids, shifted forward in event time on every pass."""

    def __init__(self, events: list[dict]) -> None:
        self.events, self.position, self.cycle = events, 0, 0
        self.base = datetime.now(UTC) - timedelta(days=30)

    def next(self) -> dict:
        if self.position == len(self.events):
            self.position, self.cycle = 0, self.cycle + 1
        original = self.events[self.position]
        self.position += 1
        stamp = datetime.fromisoformat(original["timestamp"]) - datetime(2017, 12, 10, tzinfo=UTC)
        event = dict(original)
        event["id"] = str(uuid.uuid4())
        event["timestamp"] = (self.base + stamp + timedelta(hours=4 * self.cycle)).isoformat()
        return event


async def run_clients(port: int, clients: int, seconds: float, requests: list) -> dict:
    """Clients take prepared requests from one queue until it is empty or time is up.

    Bodies are built before the clock starts, so the figures are the server's and not
    the cost of this client encoding JSON on the same two cores.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    pending = iter(requests)
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        conn = await Connection(port).open()
        for method, path, body, headers in pending:
            started = time.perf_counter()
            status, _ = await conn.request(method, path, body, headers)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if started > deadline:
                break
        conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "elapsed": elapsed,
        "latencies": latencies,
        "statuses": statuses,
    }


def report(label: str, result: dict, events_per_request: int = 1) -> float:
    rate = result["requests"] * events_per_request / result["elapsed"]
    ms = [1000 * x for x in result["latencies"]]
    unit = "req/s" if events_per_request == 1 else "events/s"
    print(
        f"  {label:<34} {rate:>10,.0f} {unit:<9} p50 {percentile(ms, 50):7.1f} ms"
        f"  p99 {percentile(ms, 99):7.1f} ms  statuses {result['statuses']}"
    )
    return rate


async def bench_database(
    kind: str, workers: int, seconds: float, scale: int, root: Path = ROOT
) -> dict:
    print(f"\n== {kind}, {workers} Daphne worker(s), code of {root}: a fresh database")
    url = reset_database(kind, os.environ.get("BENCH_DATABASE", "bench_ingest"))
    manage(
        url, "create_user", "bench", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    manage(url, "shell", "-c", RULES_SCRIPT)
    stream = Stream(load_events())
    figures: dict[str, float] = {}
    extra_env = {"REDIS_URL": REDIS_URL} if workers > 1 else {}
    with daphne(url, workers=workers, env=extra_env, root=root) as server:
        access = await token(server.port, "bench", PASSWORD)
        json_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
        ndjson_headers = json_headers | {"Content-Type": "application/x-ndjson"}
        print(f"  server RSS at start: {server.rss_mib():.1f} MiB")

        def singles(count: int) -> list:
            return [
                ("POST", "/api/events/", json.dumps(stream.next()).encode(), json_headers)
                for _ in range(count)
            ]

        def batches(count: int, ndjson: bool) -> list:
            requests = []
            for _ in range(count):
                events = [json.dumps(stream.next()) for _ in range(1000)]
                body = "\n".join(events) if ndjson else "[" + ",".join(events) + "]"
                requests.append(
                    (
                        "POST",
                        "/api/events/",
                        body.encode(),
                        ndjson_headers if ndjson else json_headers,
                    )
                )
            return requests

        sent = (await run_clients(server.port, 4, 5, singles(200)))["requests"]  # warm-up
        for clients in (1, 16):
            result = await run_clients(server.port, clients, seconds, singles(scale * clients))
            figures[f"single_{clients}"] = report(f"single events, {clients} client(s)", result)
            sent += result["requests"]
        seeds = [
            ("POST", "/api/events/", json.dumps(seed_event(n)).encode(), json_headers)
            for n in range(scale * 16)
        ]
        result = await run_clients(server.port, 16, seconds, seeds)
        figures["seed_16"] = report("seed workload, 16 clients", result)
        sent += result["requests"]
        for label, ndjson in (("JSON array", False), ("NDJSON", True)):
            prepared = batches(scale // 10, ndjson)
            result = await run_clients(server.port, 2 * workers, seconds, prepared)
            figures[f"batch_{label}"] = report(
                f"batches of 1000, {label}, {2 * workers} clients", result, 1000
            )
            sent += 1000 * result["requests"]
        print(f"  server RSS at end:   {server.rss_mib():.1f} MiB")
    stored = int(manage(url, "shell", "--no-imports", "-c", COUNT_SCRIPT).strip())
    verdict = "OK" if stored == sent else "MISMATCH"
    print(f"  events sent {sent:,}, stored {stored:,}: {verdict}")
    figures["lost_or_doubled"] = sent - stored
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20, help="cap on each measurement")
    parser.add_argument(
        "--scale", type=int, default=500, help="single requests per client; batches = scale/10"
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2", help="Daphne workers to try, e.g. 1,2")
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; rules: 3 default + 100 match + 10 threshold")
    print(machine_speed())
    kinds = args.databases.split(",")
    stream = Stream(load_events())
    batches = [[stream.next() for _ in range(1000)] for _ in range(args.scale // 5)]
    floors = {kind: storage_floor(kind, batches) for kind in kinds}
    for kind, floor in floors.items():
        bare = storage_floor(kind, batches, bare=True)
        print(
            f"storage floor, {kind}: {floor:,.0f} events/s (raw driver, {len(batches)} batches "
            "of 1000 into the indexed events table, nothing else; bench/floor.py); into a bare "
            f"table of its columns {bare:,.0f} rows/s, {bare / SCALE_FIGURES[kind]:.2f} of the"
            f" issue's figure for scale ({SCALE_FIGURES[kind]:,})"
        )
    results = {}
    for kind in kinds:
        for workers in map(int, args.workers.split(",")):
            if args.base:
                base = asyncio.run(
                    bench_database(kind, workers, args.seconds, args.scale, args.base.resolve())
                )
            results[kind, workers] = asyncio.run(
                bench_database(kind, workers, args.seconds, args.scale)
            )
            if args.base:
                print("  this/base: " + ", ".join(
                    f"{name} {results[kind, workers][name] / base[name]:.3f}"
                    for name in base if name != "lost_or_doubled"
                ))  # fmt: skip
    print(f"\n{machine_speed()}")
    print("ratios against the targets (reference: 90 single req/s with 16 clients):")
    targets = {"sqlite": 50_000, "postgres": 30_000}
    for (kind, workers), figures in results.items():
        print(
            f"  {kind:<9} {workers} worker(s)  single x16: {figures['single_16'] / 90:5.1f}x the"
            f" reference (target 10x); batches: {figures['batch_JSON array'] / targets[kind]:4.2f}"
            f" and {figures['batch_NDJSON'] / targets[kind]:4.2f} of the {targets[kind]:,}/s target,"
            f" {figures['batch_JSON array'] / floors[kind]:4.2f} and"
            f" {figures['batch_NDJSON'] / floors[kind]:4.2f} of the storage floor;"
            f" seed workload {figures['seed_16'] / figures['single_16']:4.2f} of the replay's"
            " single-event rate (goal 0.8)"
        )
    if any(figures["lost_or_doubled"] for figures in results.values()):
        sys.exit("events lost or doubled")


if __name__ == "__main__":
    main()
