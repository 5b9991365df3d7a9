"""What suppressions cost ingestion: batches of 1000 OpenSSH events through the real HTTP
endpoint with no suppression, then with 10 (one covering a busy source IP's threshold
matches, nine covering nothing in this traffic), in alternating rounds in the same run
so the shared machine's swings fall on both alike.

The rules are bench/ingest.py's: the shipped ones plus 100 match rules and 10 threshold
rules.

    .venv/bin/python bench/suppressions.py [--databases postgres,sqlite] [--rounds 3]
                                           [--batches 10]
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import RULES_SCRIPT, Stream, load_events
from bench.server import Connection, daphne, machine_speed, manage, reset_database, token

PASSWORD = "bench-password-not-secret-1234"


async def post(conn: Connection, access: str, method: str, path: str, body: object) -> dict:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
    status, answer = await conn.request(method, path, json.dumps(body).encode(), headers)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {answer[:200]!r}")
    return json.loads(answer) if answer else {}


async def ingest_rate(port: int, access: str, bodies: list[bytes]) -> float:
    conn = await Connection(port).open()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
    started = time.perf_counter()
    for body in bodies:
        status, answer = await conn.request("POST", "/api/events/", body, headers)
        if status != 201:
            raise RuntimeError(f"ingest: {status} {answer[:200]!r}")
    elapsed = time.perf_counter() - started
    conn.close()
    return 1000 * len(bodies) / elapsed


async def add_suppressions(port: int, access: str) -> list[int]:
    conn = await Connection(port).open()
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    bodies = [{"group": {"source_ip": "5.188.10.180"}, "reason": "busy scanner"}]
    bodies += [
        {"condition": {"field": "source_ip", "op": "cidr", "value": f"192.0.{i}.0/24"},
         "reason": f"lab {i}"}
        for i in range(9)
    ]  # fmt: skip
    ids = [
        (await post(conn, access, "POST", "/api/suppressions/", b | {"expires_at": expires}))["id"]
        for b in bodies
    ]
    conn.close()
    return ids


async def drop_suppressions(port: int, access: str, ids: list[int]) -> int:
    """Deletes them; returns the hits they counted."""
    conn = await Connection(port).open()
    headers = {"Authorization": f"Bearer {access}"}
    _, answer = await conn.request("GET", "/api/suppressions/", b"", headers)
    hits = sum(row["hits"] for row in json.loads(answer) if row["id"] in ids)
    for suppression_id in ids:
        await post(conn, access, "DELETE", f"/api/suppressions/{suppression_id}/", {})
    conn.close()
    return hits


def bench(kind: str, rounds: int, batches: int) -> None:
    url = reset_database(kind, "bench_suppressions_ruletest")
    manage(url, "create_user", "bench", "--role", "admin", "--password-stdin",
           stdin=PASSWORD + "\n")  # fmt: skip
    manage(url, "shell", "-c", RULES_SCRIPT)
    stream = Stream(load_events())
    rates: dict[int, list[float]] = {0: [], 10: []}
    hits = 0
    with daphne(url) as server:
        access = asyncio.run(token(server.port, "bench", PASSWORD))
        asyncio.run(ingest_rate(server.port, access, _bodies(stream, 2)))  # warm up
        for _ in range(rounds):
            rates[0].append(asyncio.run(ingest_rate(server.port, access, _bodies(stream, batches))))
            ids = asyncio.run(add_suppressions(server.port, access))
            rates[10].append(
                asyncio.run(ingest_rate(server.port, access, _bodies(stream, batches)))
            )
            hits += asyncio.run(drop_suppressions(server.port, access, ids))
    none, ten = statistics.median(rates[0]), statistics.median(rates[10])
    print(f"{kind}: events/s, batches of 1000, median of {rounds} rounds of {batches}: "
          f"0 suppressions {none:,.0f}, 10 suppressions {ten:,.0f} (x{ten / none:.2f}); "
          f"rounds 0: {[round(r) for r in rates[0]]}, 10: {[round(r) for r in rates[10]]}; "
          f"matches suppressed (hits): {hits}")  # fmt: skip


def _bodies(stream: Stream, count: int) -> list[bytes]:
    return [json.dumps([stream.next() for _ in range(1000)]).encode() for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    args = parser.parse_args()
    print(f"machine speed: {machine_speed()}")
    for kind in args.databases.split(","):
        bench(kind, args.rounds, args.batches)


if __name__ == "__main__":
    main()
