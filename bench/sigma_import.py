"""Sigma at scale: importing all of SigmaHQ, a worker starting with it, and ingesting.

In-process on a throwaway SQLite database (one process = one worker):
1. import time of SigmaHQ's rules, rules-emerging-threats, rules-threat-hunting (3,754
   rules), with the counts by skip reason;
2. a worker starting with them: a new process's Django set-up and first rule-set load
   (what its first batch pays);
3. ingest rate of Sysmon process-creation events (the regression samples, repeated with
   varied command lines, process ids and images) in 1,000-event batches through
   `ingest_events`, with the three shipped rules only and then with all rules, same run;
   and detection alone (`detection.select`) for both.

    .venv/bin/python bench/sigma_import.py [--batches 5]

(Not bench/sigma.py: the script's folder comes first on sys.path, and would hide pySigma's
`sigma` package.)
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SIGMA = ROOT.parent / "shared" / "datasets" / "sigma_rules"
FOLDERS = ("rules", "rules-emerging-threats", "rules-threat-hunting")

START_PROBE = """
import time
started = time.perf_counter()
import django
django.setup()
from secalerts.rules import registry
loaded, cpu = time.perf_counter(), time.process_time()
rules = registry.active_rules().rules
took, cpu_took = time.perf_counter() - loaded, time.process_time() - cpu
print(f"{loaded - started:.2f} {took:.2f} {cpu_took:.2f} {len(rules)}")
"""


def sysmon_events(count: int) -> list[dict]:
    from secalerts.sigma import evtx

    samples = []
    for path in sorted((SIGMA / "regression_data").rglob("*.json")):
        for record in evtx.read_records(path.read_text()):
            event = evtx.evtx_to_event(record)
            if event["event_type"] == "win.sysmon.1":
                samples.append(event)
    chooser = random.Random(7)
    events = []
    for number in range(count):
        base = chooser.choice(samples)
        data = dict(base["data"])
        data["ProcessId"] = 1000 + number
        data["CommandLine"] = f"{data.get('CommandLine', '')} /n:{number}"
        if number % 3:
            data["Image"] = f"C:\\Program Files\\App{number % 97}\\tool{number % 13}.exe"
        events.append(
            {
                "event_type": "win.sysmon.1",
                "source": f"ws-{number % 50}",
                "timestamp": "2026-12-04T10:00:00Z",
                "data": data,
            }
        )
    return events


def ingest_rate(events: list[dict], batch: int) -> tuple[float, float]:
    """(events per second through ingest_events (wall clock), through detection.select
    alone (per CPU second)); prints the rules each event was run through, with the
    literal index and with the event-type index alone."""
    from django.utils import timezone

    from secalerts import detection
    from secalerts.events.validation import validate_items
    from secalerts.ingest.service import ingest_events
    from secalerts.rules import registry

    ruleset = registry.active_rules()
    now = timezone.now()
    batches = [validate_items(events[i : i + batch], now=now) for i in range(0, len(events), batch)]
    for literals in (False, True):
        index = detection.index_rules(ruleset.compiled, literals=literals)
        stats = detection.SelectStats()
        started = time.process_time()
        for items in batches:
            detection.select(items, index, stats)
        select_rate = len(events) / (time.process_time() - started)  # one core's rate
        ran = sorted(stats.candidates)
        print(
            f"  rules run per event, {'literal' if literals else 'event-type'} index: "
            f"mean {sum(ran) / len(ran):.1f}, p99 {ran[len(ran) * 99 // 100]}, "
            f"max {ran[-1]}; select {select_rate:,.0f} ev/s"
        )
    started = time.perf_counter()
    for items in batches:
        ingest_events(events=items)
    return len(events) / (time.perf_counter() - started), select_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=5, help="1,000-event batches per run")
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-sigma-')}/db.sqlite3"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="security_backend.settings", DATABASE_URL=url, LOG_LEVEL="ERROR"
    )
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from secalerts.events.models import Event
    from secalerts.sigma import services

    call_command("migrate", verbosity=0)
    events = sysmon_events(1000 * args.batches * 2)
    half = len(events) // 2

    shipped, shipped_select = ingest_rate(events[:half], 1000)
    print(f"shipped rules only: ingest {shipped:,.0f} ev/s, select {shipped_select:,.0f} ev/s")

    started = time.perf_counter()
    result = services.import_sigma(services.documents_from_paths(SIGMA / f for f in FOLDERS))
    took = time.perf_counter() - started
    print(
        f"import: {took:.1f} s, created {len(result.created)}, updated {len(result.updated)}, "
        f"skipped {len(result.skipped)}"
    )
    reasons = Counter(
        "unmapped logsource" if s["reason"].startswith("unmapped") else s["reason"]
        for s in result.skipped
    )
    for reason, count in reasons.most_common():
        print(f"  {count:5d}  {reason}")

    probe = subprocess.run(
        [sys.executable, "-c", START_PROBE],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    setup, load, cpu, loaded = probe.stdout.split()
    print(
        f"worker start: django setup {setup} s, first rule-set load {load} s "
        f"({cpu} s of CPU, {loaded} rules)"
    )

    Event.objects.all().delete()
    every, every_select = ingest_rate(events[half:], 1000)
    print(f"all rules: ingest {every:,.0f} ev/s, select {every_select:,.0f} ev/s")
    print(
        f"ratio all/shipped: ingest {every / shipped:.2f}, select {every_select / shipped_select:.2f}"
    )


if __name__ == "__main__":
    main()
