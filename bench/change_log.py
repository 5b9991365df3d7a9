"""What the stream's change log (alerts/changes.py) costs ingestion: this code against a
checkout of the code before it, serving one fresh database at once.

    .venv/bin/python bench/change_log.py --base DIR [--databases sqlite,postgres]
                                         [--workers 1,2] [--rounds 8]

Each round sends both servers, in alternating order, a burst of batches of 1000 (2
clients per worker; the OpenSSH replay: alerts updated by deduplication, one change
each), single events of the replay (16 clients) and the seed workload (16 clients,
single events that raise a new alert each: one change logged per request). The
shared machine's speed swings over minutes, so ratios are taken within a round, seconds
apart, and the median over rounds is printed. Checks that stored == sent.
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import (
    COUNT_SCRIPT,
    PASSWORD,
    REDIS_URL,
    RULES_SCRIPT,
    Stream,
    load_events,
    run_clients,
    seed_event,
)
from bench.server import ROOT, daphne, free_port, machine_speed, manage, reset_database, token

DATABASE = os.environ.get("BENCH_DATABASE", "bench_change_log")
KINDS = ("batches", "singles", "seed")


async def measure(ports: dict[str, int], workers: int, rounds: int) -> tuple[int, list[dict]]:
    stream = Stream(load_events())
    access = await token(next(iter(ports.values())), "bench", PASSWORD)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}
    seeds = iter(range(10**9))

    def singles(count: int, seed: bool = False) -> list:
        return [
            (
                "POST",
                "/api/events/",
                json.dumps(seed_event(next(seeds)) if seed else stream.next()).encode(),
                headers,
            )
            for _ in range(count)
        ]

    def batches(count: int) -> list:
        bodies = ("[" + ",".join(json.dumps(stream.next()) for _ in range(1000)) + "]"
                  for _ in range(count))  # fmt: skip
        return [("POST", "/api/events/", body.encode(), headers) for body in bodies]

    sent = 0
    for port in ports.values():  # warm-up
        sent += 1000 * (await run_clients(port, 2 * workers, 30, batches(2 * workers)))["requests"]
        sent += (await run_clients(port, 16, 30, singles(64)))["requests"]
    results = []
    for number in range(rounds):
        figures: dict[str, dict[str, float]] = {}
        for code in list(ports)[:: -1 if number % 2 else 1]:
            port = ports[code]
            result = await run_clients(port, 2 * workers, 30, batches(4 * workers))
            sent += 1000 * result["requests"]
            rates = {"batches": 1000 * result["requests"] / result["elapsed"]}
            for kind, seed in (("singles", False), ("seed", True)):
                result = await run_clients(port, 16, 30, singles(16 * 20, seed))
                sent += result["requests"]
                rates[kind] = result["requests"] / result["elapsed"]
            figures[code] = rates
        results.append(figures)
        print(
            f"  round {number}: "
            + "  ".join(
                f"{code} {r['batches']:,.0f} ev/s, {r['singles']:,.0f} / {r['seed']:,.0f} req/s"
                for code, r in figures.items()
            ),
            flush=True,
        )
    return sent, results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, required=True, help="a checkout to compare with")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    print(machine_speed())
    roots = {"new": ROOT, "base": args.base.resolve()}
    failed = False
    for kind in args.databases.split(","):
        for workers in map(int, args.workers.split(",")):
            print(f"\n== {kind}, {workers} Daphne worker(s)")
            url = reset_database(kind, DATABASE)
            manage(url, "create_user", "bench", "--role", "analyst", "--password-stdin",
                   stdin=PASSWORD + "\n")  # fmt: skip
            manage(url, "shell", "-c", RULES_SCRIPT)
            with contextlib.ExitStack() as servers:
                ports = {}
                for code, root in roots.items():
                    # serve starts a syslog listener: not on the port of anyone else's.
                    env = {"SYSLOG_BIND": f"127.0.0.1:{free_port()}"}
                    if workers > 1:
                        env["REDIS_URL"] = REDIS_URL
                    server = servers.enter_context(daphne(url, workers, root=root, env=env))
                    ports[code] = server.port
                sent, rounds = asyncio.run(measure(ports, workers, args.rounds))
            stored = int(manage(url, "shell", "--no-imports", "-c", COUNT_SCRIPT).strip())
            print(f"  events sent {sent:,}, stored {stored:,}: "
                  f"{'OK' if stored == sent else 'MISMATCH'}; {machine_speed()}")  # fmt: skip
            failed |= stored != sent
            ratios = {
                kind: statistics.median(r["new"][kind] / r["base"][kind] for r in rounds)
                for kind in KINDS
            }
            print(
                "  new/base (medians of per-round ratios): "
                f"batches of 1000 {ratios['batches']:.3f}, replay single events"
                f" {ratios['singles']:.3f}, seed workload (a new alert each) {ratios['seed']:.3f}"
            )
    if failed:
        sys.exit("events lost or doubled")


if __name__ == "__main__":
    main()
