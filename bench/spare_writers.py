"""Whether spare ingest writers (EVENTS_SPARE_WRITERS) pay, on PostgreSQL, with one Daphne
process and with `manage.py serve --workers N` (Redis).

    .venv/bin/python bench/spare_writers.py [--workers 1,2] [--rounds 12] [--base DIR]

Per worker count, servers with 0 and with 1 spare writer serve one fresh database at
once (with --base, also the checkout DIR's code, both ways: a baseline). Each round
sends every server, in rotating order, a burst of batches of 1000 (2 clients per worker)
and a burst of single events (16 clients), bench/ingest.py's requests and rules. The
shared machine's speed swings over minutes, so ratios are taken within a round, seconds
apart, and the median over rounds is printed. Checks that stored == sent.
"""

import argparse
import asyncio
import contextlib
import json
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
)
from bench.server import ROOT, daphne, free_port, machine_speed, manage, reset_database, token

DATABASE = "bench_spare_writers"
Config = tuple[str, int]  # code ("new" or "base"), spare writers


Round = dict[Config, tuple[float, float]]  # events/s in batches, single requests/s


async def measure(ports: dict[Config, int], workers: int, rounds: int) -> tuple[int, list[Round]]:
    stream = Stream(load_events())
    access = await token(next(iter(ports.values())), "bench", PASSWORD)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}

    def singles(count: int) -> list:
        return [
            ("POST", "/api/events/", json.dumps(stream.next()).encode(), headers)
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
    configs, results = list(ports), []
    for number in range(rounds):
        order = configs[number % len(configs) :] + configs[: number % len(configs)]
        figures = {}
        for config in order[:: -1 if number % 2 else 1]:
            result = await run_clients(ports[config], 2 * workers, 30, batches(6 * workers))
            batch_rate = 1000 * result["requests"] / result["elapsed"]
            sent += 1000 * result["requests"]
            result = await run_clients(ports[config], 16, 30, singles(16 * 25))
            figures[config] = (batch_rate, result["requests"] / result["elapsed"])
            sent += result["requests"]
        results.append(figures)
        print(
            f"  round {number}: "
            + "  ".join(
                f"{c}-{s} {b:,.0f} ev/s {r:,.0f} req/s" for (c, s), (b, r) in figures.items()
            ),
            flush=True,
        )
    return sent, results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--base", type=Path, help="a checkout of the code to compare with")
    args = parser.parse_args()
    print(machine_speed())
    roots = {"new": ROOT, **({"base": args.base.resolve()} if args.base else {})}
    for workers in map(int, args.workers.split(",")):
        print(f"\n== PostgreSQL, {workers} Daphne worker(s)")
        url = reset_database("postgres", DATABASE)
        manage(url, "create_user", "bench", "--role", "analyst", "--password-stdin",
               stdin=PASSWORD + "\n")  # fmt: skip
        manage(url, "shell", "-c", RULES_SCRIPT)
        with contextlib.ExitStack() as servers:
            ports = {}
            for code, root in roots.items():
                for spares in (0, 1):
                    env = {"EVENTS_SPARE_WRITERS": str(spares)}
                    # serve starts a syslog listener: not on the port of anyone else's.
                    env["SYSLOG_BIND"] = f"127.0.0.1:{free_port()}"
                    if workers > 1:
                        env["REDIS_URL"] = REDIS_URL
                    server = servers.enter_context(daphne(url, workers, root=root, env=env))
                    ports[(code, spares)] = server.port
            sent, rounds = asyncio.run(measure(ports, workers, args.rounds))
        stored = int(manage(url, "shell", "--no-imports", "-c", COUNT_SCRIPT).strip())
        print(f"  events sent {sent:,}, stored {stored:,}: "
              f"{'OK' if stored == sent else 'MISMATCH'}; {machine_speed()}")  # fmt: skip
        for which, name in ((0, "batches of 1000"), (1, "single events, 16 clients")):
            line = f"  {name}: spare/none {ratio(rounds, ('new', 1), ('new', 0), which):.3f}"
            if args.base:
                line += (
                    f" (base {ratio(rounds, ('base', 1), ('base', 0), which):.3f});"
                    f" new/base {ratio(rounds, ('new', 0), ('base', 0), which):.3f} without"
                    f" spare, {ratio(rounds, ('new', 1), ('base', 1), which):.3f} with"
                )
            print(line + "  (medians of per-round ratios)")
        if stored != sent:
            sys.exit("events lost or doubled")


def ratio(rounds: list[Round], a: Config, b: Config, which: int) -> float:
    return statistics.median(r[a][which] / r[b][which] for r in rounds)


if __name__ == "__main__":
    main()
