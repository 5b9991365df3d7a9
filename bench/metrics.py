"""What metrics cost: ingest rate with METRICS_ENABLED on and off, alternating rounds in one
run, and /metrics checked against what the benchmark sent.

    .venv/bin/python bench/metrics.py [--rounds 3] [--seconds 8] [--databases sqlite,postgres]
                                      [--workers 1,2] [--database-name bench_metrics]

Each round starts a fresh server (one Daphne, or `manage.py serve --workers N` with Redis)
with metrics on or off, alternating on, off, off, on, ... so that the shared machine's
swings and the database's growth fall on both alike. A round sends single events from 16 clients, then batches of 100 events from
4 clients; a tenth of the requests resend an earlier batch (duplicates) and one in fifty
holds an invalid item (rejected, 400). /metrics is scraped every 2 s during the round (404
while off). In the rounds with metrics on, the final scrape must count exactly the
events sent, by result. Prints the median events/s of each mode and workload, and the
ratio on/off.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client.parser import text_string_to_metric_families

from bench.ingest import PASSWORD, REDIS_URL, RULES_SCRIPT, run_clients
from bench.server import (
    ROOT,
    Connection,
    daphne,
    machine_speed,
    manage,
    reset_database,
    server_env,
    token,
)

SCRAPE_SECONDS = 2.0
# The calls one ingest request makes (a batch: its results, its transaction's time), timed
# in a process of its own in multiprocess mode, as under `serve`.
CALLS_SCRIPT = """
import os, tempfile, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
import django
django.setup()
from secalerts.core import metrics
n = 200_000
started = time.perf_counter()
for _ in range(n):
    metrics.count_events("http", accepted=99, duplicate=1)
    metrics.observe_batch(started)
print(f"{(time.perf_counter() - started) / n * 1e6:.2f}")
"""


# The ingest path in one process (`post_events`: validate, store, detect, answer), each
# request timed with metrics on or off in turn (on, off, off, on, ...): the machine's
# swings, which blur the server rounds, fall on both modes alike within milliseconds.
IN_PROCESS_SCRIPT = """
import json, os, statistics, sys, tempfile, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp()
import django
django.setup()
from django.conf import settings
from secalerts.ingest.endpoint import post_events
sys.path.insert(0, ".")
from bench.metrics import event

requests, n = int(sys.argv[1]), 0
for label, size, count in (("single", 1, requests), ("batch", 100, requests // 10)):
    bodies = []
    for _ in range(count + 20):
        items = [event(n + i) for i in range(size)]
        n += size
        bodies.append(json.dumps(items if size > 1 else items[0]).encode())
    spent = {True: [], False: []}
    for number, body in enumerate(bodies):
        enabled = number % 4 in (0, 3)
        settings.METRICS_ENABLED = enabled
        started = time.perf_counter()
        post_events(body, "application/json", sender=None)
        if number >= 20:  # the first ones warm up
            spent[enabled].append(time.perf_counter() - started)
    # Means, and medians: a checkpoint or another process's burst lands on one request.
    on, off = (sum(spent[mode]) / len(spent[mode]) / size for mode in (True, False))
    mid_on, mid_off = (statistics.median(spent[mode]) / size for mode in (True, False))
    print(f"  in one process, {label:<6} ({len(spent[True])} requests a mode), us an event,"
          f" metrics on/off: mean {1e6 * on:.1f}/{1e6 * off:.1f}, rate on/off {off / on:.3f};"
          f" median {1e6 * mid_on:.1f}/{1e6 * mid_off:.1f}, rate on/off {mid_off / mid_on:.3f}")
"""


def event(n: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "timestamp": (datetime.now(UTC) - timedelta(seconds=n % 600)).isoformat(),
        "event_type": ("ssh.auth.failed_password", "net.flow", "ids.alert")[n % 3],
        "source": "bench",
        "source_ip": f"198.51.{n // 250 % 256}.{n % 250 + 1}",
        "username": f"user{n % 50}",
        "data": {"bytes": n * 7 % 65536},
    }


def workload(headers: dict[str, str], singles: int, batches: int) -> tuple[list, list, dict]:
    """Single-event and 100-event requests, and the events they should count by result."""
    expected = {"accepted": 0, "duplicate": 0, "rejected": 0}
    n = 0

    def requests(count: int, size: int) -> list:
        nonlocal n
        made: list = []
        sent: list[bytes] = []
        for index in range(count):
            if index % 10 == 9 and sent:
                body, result = sent[index % len(sent)], "duplicate"
            else:
                items = [event(n + i) for i in range(size)]
                n += size
                result = "accepted"
                if index % 50 == 48:
                    items[-1] = {"event_type": "no.source"}
                    result = "rejected"
                body = json.dumps(items if size > 1 else items[0]).encode()
                if result == "accepted":
                    sent.append(body)
            made.append(("POST", "/api/events/", body, headers, result, size))
        return made

    return requests(singles, 1), requests(batches, 100), expected


async def round_(url: str, workers: int, enabled: bool, seconds: float, scale: int) -> dict:
    env = {"METRICS_ENABLED": "true" if enabled else "false"}
    if workers > 1:
        env["REDIS_URL"] = REDIS_URL
    with daphne(url, workers=workers, env=env) as server:
        access = await token(server.port, "bench", PASSWORD)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
        singles, batches, expected = workload(headers, scale * 16, scale)
        stop = asyncio.Event()

        async def scraper() -> None:
            conn = await Connection(server.port).open()
            while not stop.is_set():
                await conn.request("GET", "/metrics")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), SCRAPE_SECONDS)
            conn.close()

        scraping = asyncio.create_task(scraper())
        rates = {}
        for label, requests, clients in (("single", singles, 16), ("batch", batches, 4)):
            plain = [request[:4] for request in requests]
            result = await run_clients(server.port, clients, seconds, plain)
            # Clients take requests in order and stop on time: the first ones were sent.
            events = 0
            for *_, kind, size in requests[: result["requests"]]:
                expected[kind] += size
                events += size
            rates[label] = events / result["elapsed"]
        stop.set()
        await scraping
        counted = await scrape(server.port) if enabled else None
    verdict = ""
    if counted is not None:
        verdict = "counts OK" if counted == expected else f"MISMATCH {counted} != {expected}"
    print(
        f"  metrics {'on ' if enabled else 'off'}  single events {rates['single']:>7,.0f}/s,"
        f" batches of 100 {rates['batch']:>8,.0f} events/s  {verdict}"
    )
    return {"rates": rates, "ok": counted is None or counted == expected}


async def scrape(port: int) -> dict[str, int]:
    conn = await Connection(port).open()
    status, body = await conn.request("GET", "/metrics")
    conn.close()
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    found = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "secalerts_events_ingested_total":
                found[sample.labels["result"]] += int(sample.value)
    return found


def in_process(url: str, requests: int) -> str:
    return subprocess.run(
        [sys.executable, "-c", IN_PROCESS_SCRIPT, str(2 * requests)],
        cwd=ROOT,
        env=server_env(url),
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each mode")
    parser.add_argument("--seconds", type=float, default=8, help="cap on each measurement")
    parser.add_argument("--scale", type=int, default=60, help="single requests per client")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--database-name", default="bench_metrics")
    parser.add_argument(
        "--requests", type=int, default=2000, help="in-process single-event requests a mode"
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; {machine_speed()}")
    calls = subprocess.run(
        [sys.executable, "-c", CALLS_SCRIPT],
        cwd=ROOT,
        env=server_env("sqlite:///:memory:"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(
        f"metrics calls of one ingest request (two counters, one histogram), multiprocess"
        f" mode: {calls} us"
    )
    failed = False
    for kind in args.databases.split(","):
        for workers in map(int, args.workers.split(",")):
            print(f"\n== {kind}, {workers} worker(s)")
            url = reset_database(kind, args.database_name)
            manage(
                url,
                "create_user",
                "bench",
                "--role",
                "analyst",
                "--password-stdin",
                stdin=PASSWORD + "\n",
            )
            manage(url, "shell", "-c", RULES_SCRIPT)
            if workers == 1:
                print(in_process(url, args.requests), end="")
            rates: dict[tuple[bool, str], list[float]] = {}
            for number in range(2 * args.rounds):
                # On, off, off, on, ...: a drift over the run (the database growing, the
                # machine's load) falls on both modes alike.
                enabled = number % 4 in (0, 3)
                outcome = asyncio.run(round_(url, workers, enabled, args.seconds, args.scale))
                for label, rate in outcome["rates"].items():
                    rates.setdefault((enabled, label), []).append(rate)
                failed |= not outcome["ok"]
            for label in ("single", "batch"):
                on = statistics.median(rates[True, label])
                off = statistics.median(rates[False, label])
                print(
                    f"  {label:<6} median events/s: on {on:,.0f}, off {off:,.0f}:"
                    f" on/off {on / off:.3f} (goal: at least 0.95)"
                )
    print(machine_speed())
    if failed:
        sys.exit("/metrics did not count what was sent")


if __name__ == "__main__":
    main()
