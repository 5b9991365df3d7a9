"""Sensors' paths against the events API, in the same run on the same server.

    .venv/bin/python bench/intake.py [--databases sqlite,postgres] [--seconds 8] [--rounds 3]

1. Single events from 16 clients, sent with an access token and with an API key, in
   alternating rounds: what a key costs against a JWT (goal: within 5%).
2. Batches of 1000 of the loghub OpenSSH lines: as NDJSON events to POST /api/events/
   (the converted dataset), as text to POST /api/intake/syslog/, and as gzip text, in
   alternating rounds (goal: intake at least 0.7 of the NDJSON rate).

Prints rates, p50/p99 and the ratios; checks that stored == sent. Never asserts speed.
"""

import argparse
import asyncio
import gzip
import itertools
import json
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import Stream, load_events, report, run_clients
from bench.server import daphne, machine_speed, manage, reset_database, token

LOG = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "loghub_openssh"
LINES = LOG / "OpenSSH_2k_lines0001-1000.log"
PASSWORD = "bench-password-not-secret-1234"
KEY_SCRIPT = (
    "from secalerts.accounts.api_keys import create_key; "
    "print(create_key(name='bench', scopes=['ingest'], created_by=None)[1])"
)
_DAYS = itertools.count()
COUNT_SCRIPT = "from secalerts.events.models import Event; print(Event.objects.count())"


def text_batches(count: int, lines: list[str], gzipped: bool) -> list[bytes]:
    """The 1000 lines with a fresh host and day per batch: each body (and its ids) is new,
    and, as bench/ingest's Stream shifts event time, threshold windows do not pile up."""
    bodies = []
    for _ in range(count):
        host = f"h{uuid.uuid4().hex[:10]}"
        day = (date(2025, 1, 1) + timedelta(days=next(_DAYS) % 360)).strftime("%b %d")
        body = "\n".join(
            line.replace("Dec 10", day, 1).replace(" LabSZ ", f" {host} ", 1) for line in lines
        ).encode()
        bodies.append(gzip.compress(body, 1) if gzipped else body)
    return bodies


async def bench_database(kind: str, seconds: float, rounds: int) -> None:
    print(f"\n== {kind}: a fresh database, one Daphne process")
    url = reset_database(kind, "bench_intake")
    manage(url, "create_user", "bench", "--role", "analyst", "--password-stdin",
           stdin=PASSWORD + "\n")  # fmt: skip
    key = manage(url, "shell", "--no-imports", "-c", KEY_SCRIPT).strip().splitlines()[-1]
    stream = Stream(load_events())
    lines = [line for line in LINES.read_text().splitlines() if line.strip()]
    sent = 0
    with daphne(url) as server:
        access = await token(server.port, "bench", PASSWORD)
        headers = {
            "jwt": {"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
            "key": {"Content-Type": "application/json", "X-API-Key": key},
        }

        def singles(credential: str, count: int) -> list:
            return [
                ("POST", "/api/events/", json.dumps(stream.next()).encode(), headers[credential])
                for _ in range(count)
            ]

        def ndjson(count: int) -> list:
            body = [
                "\n".join(json.dumps(stream.next()) for _ in range(1000)).encode()
                for _ in range(count)
            ]
            wanted = headers["jwt"] | {"Content-Type": "application/x-ndjson"}
            return [("POST", "/api/events/", b, wanted) for b in body]

        def text(count: int, gzipped: bool) -> list:
            wanted = headers["jwt"] | {"Content-Type": "text/plain"}
            if gzipped:
                wanted = wanted | {"Content-Encoding": "gzip"}
            return [
                ("POST", "/api/intake/syslog/", b, wanted)
                for b in text_batches(count, lines, gzipped)
            ]

        sent += (await run_clients(server.port, 4, 5, singles("jwt", 200)))["requests"]
        rates: dict[str, list[float]] = {}
        for round_ in range(1, rounds + 1):
            print(f"  -- round {round_}")
            # Each goes first in every other round: the database grows as they run.
            for credential in ("jwt", "key") if round_ % 2 else ("key", "jwt"):
                result = await run_clients(server.port, 16, seconds, singles(credential, 4000))
                rate = report(f"single events, 16 clients, {credential}", result)
                rates.setdefault(credential, []).append(rate)
                sent += result["requests"]
            for label, prepared in (
                ("NDJSON events", ndjson(40)),
                ("intake text", text(40, False)),
                ("intake gzip text", text(40, True)),
            ):
                result = await run_clients(server.port, 2, seconds, prepared)
                rates.setdefault(label, []).append(
                    report(f"batches of 1000, {label}", result, 1000)
                )
                sent += 1000 * result["requests"]
    stored = int(manage(url, "shell", "--no-imports", "-c", COUNT_SCRIPT).strip())
    print(f"  events sent {sent:,}, stored {stored:,}: {'OK' if stored == sent else 'MISMATCH'}")
    total = {label: sum(values) for label, values in rates.items()}
    print(f"  key / JWT, single events:        {total['key'] / total['jwt']:.3f}")
    for label in ("intake text", "intake gzip text"):
        print(f"  {label} / NDJSON events:  {total[label] / total['NDJSON events']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine_speed()}")
    for kind in args.databases.split(","):
        asyncio.run(bench_database(kind, args.seconds, args.rounds))


if __name__ == "__main__":
    main()
