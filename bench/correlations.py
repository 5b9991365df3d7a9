"""Ingest rate with correlation rules loaded against without, same run, same events.

In process (the ingest service, no HTTP), on a fresh SQLite file or the PostgreSQL
database named by --postgres-url (migrated, its rules and events replaced). Two base
rules (failed and successful logins, `generate: false`) are always loaded; the
correlation rounds add an event_count by username, a value_count of usernames by
source, and the specification's chain (the count, then a success, temporal_ordered).
Batches of 100 events: 300 users, 20 sources, one success in 20, one event a second.
Rounds alternate (baseline, correlations, ...) over fresh event times; prints events/s
of each kind and the ratio.

    .venv/bin/python bench/correlations.py [--batches 100] [--rounds 3]
        [--postgres-url postgres://postgres@127.0.0.1:5432/h_corr]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
T0 = datetime(2026, 8, 1, tzinfo=UTC)


def batches(count: int, start_second: int) -> list[list[dict]]:
    out = []
    second = start_second
    for _ in range(count):
        batch = []
        for _ in range(100):
            success = second % 20 == 0
            batch.append(
                {
                    "id": str(uuid.uuid4()),
                    "timestamp": (T0 + timedelta(seconds=second)).isoformat(),
                    "event_type": "auth.success" if success else "auth.failure",
                    "source": f"host-{second % 20}",
                    "username": f"user{(second * 7) % 300}",
                }
            )
            second += 1
        out.append(validated(batch))
    return out


def validated(events: list[dict]) -> list[dict]:
    from secalerts.events.validation import validate_events

    body = json.dumps(events).encode()
    return validate_events(body, "application/json", max_batch=1000, max_bytes=10**7, now=T0)[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url")
    args = parser.parse_args()
    url = args.postgres_url or f"sqlite:///{tempfile.mkdtemp(prefix='corr-bench-')}/db.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="security_backend.settings", DATABASE_URL=url, LOG_LEVEL="ERROR"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from secalerts.alerts.models import Alert
    from secalerts.events.models import Event
    from secalerts.ingest.service import ingest_events
    from secalerts.rules.models import Rule
    from secalerts.rules.services import create_rule, delete_rule

    Alert.objects.all().delete()
    Event.objects.all().delete()
    Rule.objects.all().delete()

    def base(name: str, event_type: str) -> Rule:
        return create_rule(
            name=name,
            severity="low",
            generate=False,
            condition={"field": "event_type", "op": "eq", "value": event_type},
        )

    failed, success = base("failed", "auth.failure"), base("success", "auth.success")

    def load_correlations() -> list[Rule]:
        many = create_rule(
            name="many failed", severity="medium", condition=None, group_by=["username"],
            correlation={"type": "event_count", "rules": [failed.pk],
                         "timespan_seconds": 600, "condition": {"gte": 5}},
        )  # fmt: skip
        spray = create_rule(
            name="spray", severity="high", condition=None, group_by=["source"],
            correlation={"type": "value_count", "rules": [failed.pk], "timespan_seconds": 60,
                         "condition": {"gte": 3}, "field": "username"},
        )  # fmt: skip
        chain = create_rule(
            name="then success", severity="high", condition=None, group_by=["username"],
            correlation={"type": "temporal_ordered", "rules": [many.pk, success.pk],
                         "timespan_seconds": 600},
        )  # fmt: skip
        return [chain, spray, many]

    def load_thresholds() -> list[Rule]:
        """The same counts as threshold rules, for scale: what the chain adds is the rest."""
        return [
            create_rule(
                name="many failed (threshold)", severity="medium", group_by=["username"],
                condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
                threshold={"count": 5, "window_seconds": 600},
            ),
            create_rule(
                name="spray (threshold)", severity="high", group_by=["source"],
                condition={"field": "event_type", "op": "eq", "value": "auth.failure"},
                threshold={"count": 3, "window_seconds": 60, "distinct_field": "username"},
            ),
        ]  # fmt: skip

    loaders = {"baseline": list, "thresholds": load_thresholds, "correlations": load_correlations}
    rates: dict[str, list[float]] = {kind: [] for kind in loaders}
    second = 0
    for _ in range(args.rounds):
        for kind, load in loaders.items():
            loaded = load()
            work = batches(args.batches, second)
            second += args.batches * 100 + 86_400  # no window reaches the next round
            began = time.perf_counter()
            for batch in work:
                ingest_events(events=batch)
            elapsed = time.perf_counter() - began
            rates[kind].append(args.batches * 100 / elapsed)
            for rule in loaded:
                delete_rule(rule=rule)
    base_rate = statistics.median(rates["baseline"])
    vendor = "postgresql" if args.postgres_url else "sqlite"
    print(f"{vendor}: {args.batches} batches of 100 events, {args.rounds} rounds (median)")
    labels = {
        "baseline": "2 plain rules, generate false",
        "thresholds": "+ the two counts as thresholds",
        "correlations": "+ 3 correlations (one chain)",
    }
    for kind, label in labels.items():
        rate = statistics.median(rates[kind])
        print(f"  {label:34} {rate:8,.0f} events/s  x{rate / base_rate:.2f}")
    print(f"  alerts raised: {Alert.objects.count()}")


if __name__ == "__main__":
    main()
