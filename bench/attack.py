"""Sustained attack: one source failing logins without pause, through a real Daphne.

Batches of 1000 failed logins from one IP, 100 a second of event time, under a
threshold rule (5 in 300 s per source IP) and the default rules. Every batch joins
the same open alert, and the rule's window fills up to 30,000 hits of that one group.
Prints each stretch of batches' latency and server CPU as the window fills, then
checks the alert's event_count equals its linked events and every event was stored.

    .venv/bin/python bench/attack.py [--batches 40] [--database sqlite|postgres]
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

from bench.server import Connection, daphne, machine_speed, manage, reset_database, token

PASSWORD = "bench-password-not-secret-1234"
RULE_SCRIPT = """
from secalerts.rules.services import create_rule
create_rule(name="SSH guessing, sustained", severity="high",
            condition={"field": "event_type", "op": "eq", "value": "ssh.auth.failed_password"},
            group_by=["source_ip"], threshold={"count": 5, "window_seconds": 300})
"""
CHECK_SCRIPT = """
import json
from django.db.models import Count
from secalerts.alerts.models import Alert
from secalerts.events.models import Event
alerts = list(Alert.objects.filter(rule__name="SSH guessing, sustained")
              .annotate(linked=Count("events")).values("event_count", "linked"))
print(json.dumps({"events": Event.objects.count(), "alerts": alerts}))
"""
START = datetime(2026, 1, 5, tzinfo=UTC)


def batch(number: int) -> bytes:
    return json.dumps(
        [
            {
                "id": str(uuid.uuid4()),
                "timestamp": (START + timedelta(milliseconds=10 * (number * 1000 + i))).isoformat(),
                "event_type": "ssh.auth.failed_password",
                "source": "sshd",
                "source_ip": "203.0.113.9",
                "username": f"user{i % 50}",
            }
            for i in range(1000)
        ]
    ).encode()


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> None:
    print(machine_speed())
    url = reset_database(args.database, "bench_attack")
    manage(
        url, "create_user", "bench", "--role", "analyst", "--password-stdin", stdin=PASSWORD + "\n"
    )
    manage(url, "shell", "-c", RULE_SCRIPT)
    bodies = [batch(number) for number in range(args.batches)]
    with daphne(url) as server:
        access = await token(server.port, "bench", PASSWORD)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
        conn = await Connection(server.port).open()
        print(f"{args.database}: 1000 failed logins a batch, 100/s of event time, one source")
        stretch, started, cpu = [], time.perf_counter(), cpu_seconds([server.process.pid])
        for number, body in enumerate(bodies, 1):
            sent = time.perf_counter()
            status, _ = await conn.request("POST", "/api/events/", body, headers)
            if status != 201:
                sys.exit(f"batch {number}: status {status}")
            stretch.append(time.perf_counter() - sent)
            if number % 5 == 0 or number == len(bodies):
                used = cpu_seconds([server.process.pid]) - cpu
                print(
                    f"  batches {number - len(stretch) + 1:>2}-{number:<3} window "
                    f"{min(number * 1000, 30_000):>6,} hits: {1000 * sum(stretch) / len(stretch):6.1f}"
                    f" ms a batch, server CPU {1000 * used / len(stretch):6.1f} ms a batch"
                )
                stretch, cpu = [], cpu_seconds([server.process.pid])
        elapsed = time.perf_counter() - started
        conn.close()
    print(f"  {1000 * len(bodies) / elapsed:,.0f} events/s overall")
    found = json.loads(manage(url, "shell", "--no-imports", "-c", CHECK_SCRIPT))
    consistent = all(alert["event_count"] == alert["linked"] for alert in found["alerts"])
    print(
        f"  events stored {found['events']:,} of {1000 * len(bodies):,}; alerts {found['alerts']}:"
        f" {'OK' if consistent and found['events'] == 1000 * len(bodies) else 'MISMATCH'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="postgres")
    asyncio.run(main(parser.parse_args()))
