"""Syslog listener benchmark: raw sshd lines over TCP against the same events as NDJSON.

    .venv/bin/python bench/syslog.py [--repeat 20] [--databases sqlite,postgres] [--rounds 2]

Per database, on one fresh database with the default rules plus bench/ingest.py's 100
match and 10 threshold rules: the 1,000 loghub OpenSSH lines, repeated, sent over one TCP
connection to `manage.py syslog` (events/s from polling the stored count); and the same
lines' events (events.ndjson, fresh ids) POSTed as NDJSON in batches of 1,000 by one
client to a Daphne on the same database. Every pass over the lines, on either path, has
its own host name and its own day (as bench/ingest.py shifts event time), so no pass
lands in another's threshold windows. Rounds alternate the order (syslog first, then
NDJSON first), as the table grows. Prints both rates and their ratio (goal: >= 0.7).
"""

import argparse
import asyncio
import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import PASSWORD, RULES_SCRIPT
from bench.server import (
    PYTHON,
    ROOT,
    Connection,
    daphne,
    free_port,
    machine_speed,
    manage,
    reset_database,
    server_env,
    token,
)
from secalerts.logparsers import parse_line

if TYPE_CHECKING:
    import psycopg

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "loghub_openssh"
LINES = DATASET / "OpenSSH_2k_lines0001-1000.log"
EVENTS = DATASET / "events.ndjson"
HOST = "LabSZ"


class Passes:
    """Each pass over the dataset: a host name and a day of its own, counting back."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        self.count = 0

    def next(self) -> tuple[str, date]:
        self.count += 1
        day = self.now.date() - timedelta(days=self.count)
        # The year the parser gives a year-less line of that day, for the NDJSON twin.
        line = f"{day:%b} {day.day:>2} 00:00:00 h sshd[1]: x"
        year = parse_line(line, now=self.now)["timestamp"].year
        return f"{HOST}-{self.count}", day.replace(year=year)


def syslog_payload(lines: list[str], passes: list[tuple[str, date]]) -> bytes:
    out: list[str] = []
    for name, day in passes:
        stamp = f"{day:%b} {day.day:>2} "
        out.extend(stamp + line[7:].replace(f" {HOST} ", f" {name} ", 1) + "\n" for line in lines)
    return "".join(out).encode()


def ndjson_bodies(events: list[dict], passes: list[tuple[str, date]]) -> list[bytes]:
    bodies = []
    for name, day in passes:
        batch = []
        for original in events:
            event = dict(original, id=str(uuid.uuid4()), source=name)
            event["timestamp"] = day.isoformat() + original["timestamp"][10:]
            batch.append(json.dumps(event))
        bodies.append("\n".join(batch).encode())
    return bodies


class Counter:
    """The stored count, read straight from the database (no Django in this process)."""

    conn: "sqlite3.Connection | psycopg.Connection"

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)

    def count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM events_event").fetchone()
        assert row is not None  # count(*) answers one row
        return int(row[0])

    def wait_for(self, target: int, timeout: float = 600) -> float:
        """Poll until `target` events are stored; returns when (perf_counter)."""
        deadline = time.perf_counter() + timeout
        while (count := self.count()) < target:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {count} of {target} events stored")
            time.sleep(0.02)
        return time.perf_counter()


@contextlib.contextmanager
def syslog_listener(url: str) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "manage.py", "syslog", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=server_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stdout = process.stdout
    assert stdout is not None  # stdout=PIPE
    try:
        if "Listening" not in stdout.readline():
            raise RuntimeError("the syslog listener did not start")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        stdout.close()


def run_syslog(port: int, payload: bytes, counter: Counter, expected: int) -> float:
    before = counter.count()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(payload)
    done = counter.wait_for(before + expected)
    return expected / (done - started)


async def run_ndjson(port: int, bodies: list[bytes], counter: Counter, expected: int) -> float:
    before = counter.count()
    access = await token(port, "bench", PASSWORD)
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {access}"}
    conn = await Connection(port).open()
    started = time.perf_counter()
    for body in bodies:
        status, answer = await conn.request("POST", "/api/events/", body, headers)
        if status != 201:
            raise RuntimeError(f"NDJSON batch refused: {status} {answer[:200]!r}")
    conn.close()
    done = counter.wait_for(before + expected)
    return expected / (done - started)


def bench_database(kind: str, repeat: int, rounds: int) -> tuple[float, float]:
    print(f"\n== {kind}: a fresh database, default rules + 100 match + 10 threshold rules")
    url = reset_database(kind, "bench_syslog")
    manage(
        url, "create_user", "bench", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    manage(url, "shell", "-c", RULES_SCRIPT)
    lines = LINES.read_text().splitlines()
    events = [json.loads(line) for line in EVENTS.read_text().splitlines() if line.strip()]
    passes = Passes()
    counter = Counter(url)
    expected = repeat * len(lines)
    syslog_rates, ndjson_rates = [], []
    with syslog_listener(url) as syslog_port, daphne(url) as server:
        for round_no in range(rounds):
            payload = syslog_payload(lines, [passes.next() for _ in range(repeat)])
            bodies = ndjson_bodies(events, [passes.next() for _ in range(repeat)])
            order = ["syslog", "ndjson"] if round_no % 2 == 0 else ["ndjson", "syslog"]
            for path in order:
                if path == "syslog":
                    rate = run_syslog(syslog_port, payload, counter, expected)
                    syslog_rates.append(rate)
                else:
                    rate = asyncio.run(run_ndjson(server.port, bodies, counter, expected))
                    ndjson_rates.append(rate)
                print(
                    f"  round {round_no + 1}: {path:<6} {expected:,} events  {rate:>9,.0f} events/s"
                )
    syslog_rate = sum(syslog_rates) / len(syslog_rates)
    ndjson_rate = sum(ndjson_rates) / len(ndjson_rates)
    stored = counter.count()
    verdict = "OK" if stored == 2 * rounds * expected else "MISMATCH"
    print(f"  stored {stored:,} of {2 * rounds * expected:,} sent: {verdict}")
    print(
        f"  mean: syslog {syslog_rate:,.0f} events/s, NDJSON {ndjson_rate:,.0f} events/s;"
        f" ratio {syslog_rate / ndjson_rate:.2f} (goal >= 0.7)"
    )
    return syslog_rate, ndjson_rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=20, help="passes over the 1,000 lines")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, alternating the order")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    print(machine_speed())
    for kind in args.databases.split(","):
        bench_database(kind, args.repeat, args.rounds)
    print(f"\n{machine_speed()}")


if __name__ == "__main__":
    main()
