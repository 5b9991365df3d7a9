"""What logging a change costs one ingest transaction, in process, without HTTP's noise.

`ingest_events` (the service) stores seed-workload events (each raises a new alert, so
each logs one change) on a fresh database, as single events and as batches of 100, in
alternating rounds: with the change log (alerts/changes.py `record`: the counter row
bumped and the changes inserted) and with `record` replaced by a stand-in that numbers
the changes in memory, the work the path did before the log. Prints ms per transaction,
medians over rounds, and their ratio. One thread: it measures the work added, not the
wait of a second writer on the counter's lock (bench/change_log.py measures that).

    .venv/bin/python bench/change_log_cost.py [--database sqlite|postgres] [--rounds 10]
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if args.database == "postgres":
        from bench.server import reset_database

        url = reset_database("postgres", os.environ.get("BENCH_DATABASE", "bench_change_log"))
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='change-log-')}/db.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="security_backend.settings", DATABASE_URL=url, LOG_LEVEL="ERROR"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    if args.database == "sqlite":
        call_command("migrate", verbosity=0)
    from django.utils import timezone

    from bench.ingest import seed_event
    from secalerts.alerts import changes
    from secalerts.alerts.changes import Change
    from secalerts.events.validation import validate_items
    from secalerts.ingest.service import ingest_events

    logged = changes.record
    counter = itertools.count(1)

    def in_memory(kinds: dict[int, str]) -> list[Change]:
        return [Change(next(counter), kind, alert) for alert, kind in kinds.items()]

    numbers = itertools.count()

    def events(count: int) -> list[dict]:
        # Only high and critical seed events: each raises a new alert.
        picked = (seed_event(n) for n in numbers if n % 4 < 2)
        return validate_items([next(picked) for _ in range(count)], now=timezone.now())

    def per_transaction(batch: int, transactions: int) -> float:
        prepared = [events(batch) for _ in range(transactions)]
        started = time.perf_counter()
        for chunk in prepared:
            ingest_events(events=chunk)
        return 1000 * (time.perf_counter() - started) / transactions

    per_transaction(1, 50)  # warm-up: rules loaded, caches filled
    figures: dict[tuple[str, int], list[float]] = {}
    for number in range(args.rounds):
        for mode in ("log", "none")[:: -1 if number % 2 else 1]:
            changes.record = logged if mode == "log" else in_memory
            for batch, transactions in ((1, 200), (100, 10)):
                figures.setdefault((mode, batch), []).append(per_transaction(batch, transactions))
    changes.record = logged
    print(f"{args.database}, {args.rounds} rounds, medians:")
    for batch in (1, 100):
        log = statistics.median(figures["log", batch])
        none = statistics.median(figures["none", batch])
        ratios = statistics.median(
            a / b for a, b in zip(figures["log", batch], figures["none", batch], strict=True)
        )
        print(
            f"  {batch:>3} new alert(s) a transaction: {log:.3f} ms with the log,"
            f" {none:.3f} ms without: +{log - none:.3f} ms, ratio {ratios:.3f}"
        )


if __name__ == "__main__":
    main()
