"""Notification delivery benchmark on a real Daphne server and `manage.py notify_worker`.

    .venv/bin/python bench/notify.py [--db sqlite|postgres] [--seconds 120] [--pairs 20]

1. Sustained delivery: events that each raise a new alert, posted at 1,000 alerts a
   minute for `--seconds`, to a server with one webhook channel; a receiver in this
   process records when each alert's message arrives. Reports how many arrived and
   the p50/p99 from the POST's answer (the alert committed just before it) to arrival.
2. Ingest overhead: pairs of rounds of 100-event batches with the channel disabled and
   enabled; events per second of each, and the median of the pairs' ratios. With the
   worker running: one event in 100 raising a new alert, then every event (the worst
   case: 100 deliveries per batch, sent meanwhile on the same cores); then every event
   with the worker stopped (the outbox's own cost in the ingest transaction).
"""

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import (
    PYTHON,
    ROOT,
    Connection,
    daphne,
    machine_speed,
    manage,
    percentile,
    reset_database,
    server_env,
    token,
)

PASSWORD = "bench-password-not-secret-1234"
RULE = {
    "name": "bench notify",
    "severity": "high",
    "condition": {"field": "event_type", "op": "eq", "value": "bench.notify"},
    "group_by": ["source_ip"],
}


class Receiver:
    """A webhook receiver: alert id -> arrival time (first arrival)."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                alert_id = json.loads(body)["alert"]["id"]
                with receiver.lock:
                    receiver.arrivals.setdefault(alert_id, now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 128
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Events:
    """Events that each raise a new alert (a source IP never seen before), and events
    that match no rule."""

    def __init__(self) -> None:
        self.n = 0

    def batch(self, size: int, alerting: int | None = None) -> bytes:
        events = []
        for index in range(size):
            self.n += 1
            ip = f"10.{self.n >> 16 & 255}.{self.n >> 8 & 255}.{self.n & 255}"
            kind = "bench.notify" if alerting is None or index < alerting else "bench.other"
            events.append({"event_type": kind, "source": "bench", "source_ip": ip})
        return json.dumps(events).encode()


async def call(conn: Connection, access: str, method: str, path: str, body: object) -> Any:
    headers = {"Authorization": f"Bearer {access}", "Content-Type": "application/json"}
    status, answer = await conn.request(method, path, json.dumps(body).encode(), headers)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
    return json.loads(answer) if answer else None


async def post_batch(conn: Connection, access: str, body: bytes) -> list[int]:
    headers = {"Authorization": f"Bearer {access}", "Content-Type": "application/json"}
    status, answer = await conn.request("POST", "/api/events/", body, headers)
    if status != 201:
        raise RuntimeError(f"ingest: {status} {answer[:300]!r}")
    return list(json.loads(answer)["alerts"])


async def sustained(
    conn: Connection, access: str, receiver: Receiver, events: Events, seconds: int
) -> None:
    per_second = 1000 / 60
    committed: dict[int, float] = {}
    start = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * per_second) + 1 - sent
        if due > 0:
            ids = await post_batch(conn, access, events.batch(due))
            answered = time.monotonic()
            committed.update(dict.fromkeys(ids, answered))
            sent += due
        await asyncio.sleep(0.05)
    deadline = time.monotonic() + 60
    # The receiver is another thread, polled as the tests' wait_until does.
    while time.monotonic() < deadline and not set(committed) <= set(receiver.arrivals):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    latencies = [receiver.arrivals[i] - t for i, t in committed.items() if i in receiver.arrivals]
    arrived = sum(1 for i in committed if i in receiver.arrivals)
    rate = len(committed) / seconds * 60
    print(
        f"sustained: {len(committed)} alerts in {seconds} s ({rate:.0f}/min), "
        f"{arrived} delivered; commit->receiver p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )


async def overhead(
    conn: Connection,
    access: str,
    channel: int,
    events: Events,
    args: argparse.Namespace,
    alerting: int,
    label: str,
) -> None:
    """Pairs of rounds, channel off and on (the order alternating), a ratio per pair: the
    shared machine's speed drifts by more than the difference within a minute."""
    ratios, rates_off, rates_on = [], [], []
    for pair in range(args.pairs):
        rates = {}
        for enabled in (False, True) if pair % 2 else (True, False):
            path = f"/api/notifications/channels/{channel}/"
            await call(conn, access, "PATCH", path, {"enabled": enabled})
            bodies = [events.batch(100, alerting) for _ in range(args.batches)]
            start = time.perf_counter()
            for body in bodies:
                await post_batch(conn, access, body)
            rates[enabled] = args.batches * 100 / (time.perf_counter() - start)
        ratios.append(rates[True] / rates[False])
        rates_off.append(rates[False])
        rates_on.append(rates[True])
    print(
        f"ingest, {alerting} new alert(s) per 100 events, {label}: median "
        f"{statistics.median(rates_on):.0f} events/s with the webhook, "
        f"{statistics.median(rates_off):.0f} without; median ratio of {args.pairs} pairs "
        f"{statistics.median(ratios):.3f} (quartiles {percentile(ratios, 25):.3f}-"
        f"{percentile(ratios, 75):.3f})"
    )


async def main_async(
    port: int, receiver: Receiver, args: argparse.Namespace, stop_worker: Callable[[], None]
) -> None:
    access = await token(port, "bench", PASSWORD)
    conn = await Connection(port).open()
    await call(conn, access, "POST", "/api/rules/", RULE)
    hook = {"name": "bench", "kind": "webhook", "url": receiver.url, "secret": "bench"}
    channel = (await call(conn, access, "POST", "/api/notifications/channels/", hook))["id"]
    events = Events()
    await sustained(conn, access, receiver, events, args.seconds)
    for alerting in (1, 100):
        await overhead(conn, access, channel, events, args, alerting, "worker sending")
    stop_worker()
    await overhead(conn, access, channel, events, args, 100, "worker stopped (outbox only)")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine_speed()}; database: {args.db}")
    url = reset_database(args.db, "bench_notify")
    manage(
        url, "create_user", "bench", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    receiver = Receiver()
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "notify_worker"],
        cwd=ROOT,
        env=server_env(url),
        stdout=subprocess.DEVNULL,
    )

    def stop_worker() -> None:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=20)

    try:
        with daphne(url) as server:
            asyncio.run(main_async(server.port, receiver, args, stop_worker))
    finally:
        stop_worker()


if __name__ == "__main__":
    main()
