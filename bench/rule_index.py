"""Rule index benchmark: SigmaHQ's process-creation rules over Sysmon process-creation events.

The rules are SigmaHQ's own (rules/windows/process_creation/*.yml), translated here into
our condition language the simple way (field|contains/startswith/endswith/all/windash/re,
wildcards, `selection and not filter`, `1 of selection_*`...; rules using anything else
are left out). This translation is the benchmark's, not the product's Sigma import. The
larger sets add copies of them with every literal varied, as if there were several
thousand process-creation rules. The events are Sysmon event 1 records: SigmaHQ's
regression samples (each made to fire a rule) and the Security-Datasets lsass capture,
alone (every event an attack) and as 1% among everyday process starts (built here).

    .venv/bin/python bench/rule_index.py [--sizes 1200,4000] [--seconds 5] [--http]

Prints, per event mix and rule count, in one run: the CPU time to compile the rules and
to build the index; events per CPU second through `detection.select` in batches of 1000,
with the literal index and with the event-type index alone; the rules each event was
run through (mean, p99); and the rate with only the shipped rules. With --http, the
everyday mix through a real Daphne over SQLite (POST /api/events/, 1000-event batches,
one client) with the shipped rules alone, the baseline of the "at least half" goal,
and with the Sigma rules: events/s and events per second of the server's CPU.
"""

import argparse
import asyncio
import copy
import fnmatch
import json
import re
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import Connection, daphne, machine_speed, manage, reset_database, token
from secalerts.detection import (
    SelectStats,
    Threshold,
    compile_rule,
    index_rules,
    select,
)
from secalerts.detection.errors import RuleSyntaxError

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
SIGMA = DATASETS / "sigma_rules"
PROCESS_TYPES = ["win.sysmon.1", "win.security.4688"]
BATCH = 1000
SHIPPED = [  # secalerts/rules/migrations/0002_default_rules.py
    ({"field": "severity", "op": "in", "value": ["high", "critical"]}, ["source", "event_type"], None),
    ({"field": "event_type", "op": "eq", "value": "auth.failure"}, ["source_ip"], Threshold(5, 60)),
    ({"field": "event_type", "op": "eq", "value": "malware.detected"}, ["source"], None),
]  # fmt: skip


class Unsupported(Exception):
    pass


def sigma_value(field: str, modifiers: list[str], value: object) -> dict:
    """One Sigma field value as a leaf, case-insensitive as Sigma's string matches are."""
    if value is None:
        return {"field": field, "op": "exists", "value": False}
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Unsupported(f"value {value!r}")
    if isinstance(value, int):
        value = str(value)
    if "re" in modifiers:
        return {"field": field, "op": "regex", "value": value, "ignore_case": "i" in modifiers}
    kind = next((m for m in ("contains", "startswith", "endswith") if m in modifiers), "eq")
    if kind == "eq":
        if value.startswith("*") and value.endswith("*") and len(value) > 1:
            kind, value = "contains", value[1:-1]
        elif value.startswith("*"):
            kind, value = "endswith", value[1:]
        elif value.endswith("*"):
            kind, value = "startswith", value[:-1]
        else:
            kind = "eq"
    if "*" in value or "?" in value:
        pattern = re.escape(value).replace(r"\*", ".*").replace(r"\?", ".")
        anchored = {
            "eq": f"^{pattern}$",
            "startswith": f"^{pattern}",
            "endswith": f"{pattern}$",
            "contains": pattern,
        }
        return {"field": field, "op": "regex", "value": anchored[kind], "ignore_case": True}
    return {"field": field, "op": kind, "value": value, "ignore_case": True}


def sigma_field(key: str, values: object) -> dict:
    name, *modifiers = key.split("|")
    if set(modifiers) - {"contains", "startswith", "endswith", "all", "windash", "re", "i"}:
        raise Unsupported(f"modifiers {modifiers}")
    items = values if isinstance(values, list) else [values]
    if "windash" in modifiers:
        items = sorted({str(v).replace("-", dash, 1) for v in items for dash in "-/\u2013"})
    leaves = [sigma_value(f"data.{name}", modifiers, v) for v in items]
    if not leaves:
        raise Unsupported("no values")
    if len(leaves) == 1:
        return leaves[0]
    if "all" in modifiers:
        return {"all": leaves}
    ops = {(leaf["op"], leaf.get("ignore_case")) for leaf in leaves}
    if ops == {("eq", True)}:
        return {"field": f"data.{name}", "op": "in", "value": [leaf["value"] for leaf in leaves],
                "ignore_case": True}  # fmt: skip
    return {"any": leaves}


def sigma_selection(selection: object) -> dict:
    if isinstance(selection, list) and all(isinstance(s, dict) for s in selection):
        return {"any": [sigma_selection(s) for s in selection]}
    if not isinstance(selection, dict) or not selection:
        raise Unsupported("keyword selection")
    fields = [sigma_field(key, values) for key, values in selection.items()]
    return fields[0] if len(fields) == 1 else {"all": fields}


def sigma_condition(text: str, selections: dict[str, dict]) -> dict:
    tokens = re.findall(r"\(|\)|[\w*]+", text)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expression() -> dict:
        terms = [conjunction()]
        while peek() == "or":
            take()
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else {"any": terms}

    def conjunction() -> dict:
        terms = [negation()]
        while peek() == "and":
            take()
            terms.append(negation())
        return terms[0] if len(terms) == 1 else {"all": terms}

    def negation() -> dict:
        if peek() == "not":
            take()
            return {"not": negation()}
        return atom()

    def atom() -> dict:
        token = take()
        if token == "(":
            inner = expression()
            if take() != ")":
                raise Unsupported("parenthesis")
            return inner
        if token in ("1", "all"):
            if take() != "of":
                raise Unsupported("quantifier")
            pattern = take()
            names = [
                n
                for n in selections
                if fnmatch.fnmatchcase(n, "*" if pattern == "them" else pattern)
            ]
            if not names:
                raise Unsupported("nothing to quantify")
            parts = [selections[n] for n in names]
            return parts[0] if len(parts) == 1 else {"all" if token == "all" else "any": parts}
        if token not in selections:
            raise Unsupported(f"condition token {token}")
        return selections[token]

    tree = expression()
    if position != len(tokens):
        raise Unsupported("trailing tokens")
    return tree


def sigma_rules() -> list[dict]:
    """SigmaHQ's process-creation rules that translate simply, as conditions."""
    conditions = []
    for path in sorted((SIGMA / "rules" / "windows" / "process_creation").glob("*.yml")):
        rule = yaml.safe_load(path.read_text())
        detection = dict(rule.get("detection") or {})
        text = detection.pop("condition", None)
        detection.pop("timeframe", None)
        try:
            if not isinstance(text, str):
                raise Unsupported("condition list")
            selections = {name: sigma_selection(body) for name, body in detection.items()}
            condition = {"all": [{"field": "event_type", "op": "in", "value": PROCESS_TYPES},
                                 sigma_condition(text, selections)]}  # fmt: skip
            compile_rule(condition)
        except (Unsupported, RuleSyntaxError):
            continue
        conditions.append(condition)
    return conditions


def varied(condition: dict, copy_number: int) -> dict:
    """The condition with every string literal it requires changed (a digit inserted
    mid-word); those of its filters (under a `not`) kept."""
    tree = copy.deepcopy(condition)

    def vary(text: str) -> str:
        middle = len(text) // 2
        return f"{text[:middle]}{copy_number}{text[middle:]}"

    def walk(node: dict) -> None:
        for key in ("all", "any"):
            for child in node.get(key, ()):
                walk(child)
        # What a `not` excludes stays: a copy must not match what its original filters out.
        if node.get("field", "event_type") == "event_type" or node.get("op") == "regex":
            return
        value = node.get("value")
        if isinstance(value, str):
            node["value"] = vary(value)
        elif isinstance(value, list):
            node["value"] = [vary(v) if isinstance(v, str) else v for v in value]

    walk(tree)
    return tree


def sysmon_events(everyday: bool = False) -> list[dict]:
    """The attack samples (each fires a rule); with `everyday`, ordinary process starts
    with about 1% of those samples among them."""
    events = []
    samples = SIGMA / "regression_data" / "rules" / "windows" / "process_creation"
    for path in sorted(samples.rglob("*.json")):
        for item in json_records(path.read_text()):
            event = item.get("Event", {})
            if event.get("System", {}).get("EventID") == 1:
                data = event.get("EventData") or {}
                events.append({"event_type": "win.sysmon.1", "severity": "info", "data": data,
                               "source": "sysmon", "message": "Process Create:"})  # fmt: skip
    lsass = DATASETS / "security_datasets_lsass_dumpert" / "events.ndjson"
    if everyday:
        mixed = everyday_events(events[0], BATCH)
        for n, attack in enumerate(events[:: max(1, len(events) // 10)][: BATCH // 100]):
            mixed[n * 100 + 50] = attack  # about 1 event in 100
        return mixed
    for line in lsass.read_text().splitlines():
        event = json.loads(line)
        if event["event_type"] == "win.sysmon.1":
            events.append(event)
    return events


# Everyday process starts on a Windows host: (image, command line, parent image).
EVERYDAY = [
    ("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule",
     "C:\\Windows\\System32\\services.exe"),
    ("C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1",
     "C:\\Windows\\System32\\cmd.exe"),
    ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\" --type=renderer --lang=en-US",
     "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"),
    ("C:\\Windows\\System32\\SearchProtocolHost.exe",
     "\"C:\\Windows\\system32\\SearchProtocolHost.exe\" Global\\UsGthrFltPipeMssGthrPipe1",
     "C:\\Windows\\System32\\SearchIndexer.exe"),
    ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe Install $(Arg0)",
     "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
     "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\" /recycle",
     "C:\\Windows\\explorer.exe"),
    ("C:\\Windows\\System32\\backgroundTaskHost.exe",
     "\"C:\\Windows\\system32\\backgroundTaskHost.exe\" -ServerName:App.AppXmtcan0h2tfbfy7k9kn8hbxb6dmzz1zh0.mca",
     "C:\\Windows\\System32\\svchost.exe"),
    ("C:\\Users\\alice\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe",
     "\"C:\\Users\\alice\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe\" --type=utility",
     "C:\\Users\\alice\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe"),
]  # fmt: skip


def everyday_events(template: dict, count: int) -> list[dict]:
    """Ordinary process starts, shaped as the template Sysmon event 1 (all its fields)."""
    out = []
    for n in range(count):
        image, command_line, parent = EVERYDAY[n % len(EVERYDAY)]
        data = dict(template["data"])
        data.update(
            Image=image,
            CommandLine=command_line.replace("Schedule", f"Schedule{n}"),
            ParentImage=parent,
            ParentCommandLine=f'"{parent}"',
            OriginalFileName=image.rsplit("\\", 1)[1],
            Description=image.rsplit("\\", 1)[1].removesuffix(".exe"),
            Product="Microsoft\u00ae Windows\u00ae Operating System",
            Company="Microsoft Corporation",
            User="CORP\\alice",
            IntegrityLevel="Medium",
            ProcessId=4000 + n,
        )
        out.append(template | {"data": data})
    return out


def json_records(text: str) -> list[dict]:
    """The objects of a sample: one, a list, or several one after the other."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        value, at = decoder.raw_decode(text, at)
        found.extend(value if isinstance(value, list) else [value])
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def batches(events: list[dict], count: int) -> list[list[dict]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for b in range(count):
        batch = []
        for i in range(BATCH):
            event = dict(events[(b * BATCH + i) % len(events)])
            event.update(id=uuid.uuid4(), timestamp=start + timedelta(milliseconds=i))
            batch.append(event)
        out.append(batch)
    return out


def rate(index: object, work: list[list[dict]], seconds: float) -> tuple[float, int]:
    """Events per CPU second of select over the batches, cycled for about `seconds` of
    CPU (this shared machine's wall clock counts the neighbours' work); matches per batch."""
    done, matched = 0, 0
    began = time.process_time()
    while True:
        for batch in work:
            matched = len(select(batch, index).matches)  # type: ignore[arg-type]
            done += len(batch)
        if time.process_time() - began >= seconds:
            return done / (time.process_time() - began), matched


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def engine(sizes: list[int], seconds: float) -> None:
    sigma = sigma_rules()
    print(f"{len(sigma)} SigmaHQ process-creation rules translated")
    shipped = [
        compile_rule(c, rule_id=n, group_by=g, threshold=t) for n, (c, g, t) in enumerate(SHIPPED)
    ]
    for label, events in (
        ("attack samples only", sysmon_events()),
        ("everyday process starts, 1% attack samples", sysmon_events(everyday=True)),
    ):
        work = batches(events, 3)
        shipped_rate, _ = rate(index_rules(shipped), work, seconds)
        print(f"== engine, {label}: shipped rules only {shipped_rate:,.0f} events/s")
        for size in sizes:
            conditions = rule_set(sigma, size)
            began = time.process_time()
            rules = [compile_rule(c, rule_id=n) for n, c in enumerate(conditions)]
            compiled = time.process_time() - began
            began = time.process_time()
            index = index_rules(rules)
            built = time.process_time() - began
            plain = index_rules(rules, literals=False)
            indexed_stats, plain_stats = SelectStats(), SelectStats()
            assert select(work[0], index, indexed_stats) == select(work[0], plain, plain_stats)
            with_index, matched = rate(index, work, seconds)
            without, _ = rate(plain, work, seconds)
            always = len(index.by_type["win.sysmon.1"].always)
            print(
                f"{size} rules: compile {compiled:.2f} s, index build {built * 1000:.0f} ms"
                f" ({always} rules with no literal); {with_index:,.0f} events/s indexed vs"
                f" {without:,.0f} by event type alone (x{with_index / without:.1f});"
                f" rules per event {mean(indexed_stats.candidates):.1f} mean,"
                f" {percentile(indexed_stats.candidates, 0.99)} p99"
                f" (vs {mean(plain_stats.candidates):.0f}); {matched} matches per batch"
            )


def rule_set(sigma: list[dict], size: int) -> list[dict]:
    """The translated rules, then copies with varied literals up to `size`."""
    conditions = [*sigma]
    while len(conditions) < size:
        copy_number = len(conditions) // len(sigma)
        conditions.append(varied(sigma[len(conditions) % len(sigma)], copy_number))
    return conditions[:size]


PASSWORD = "bench-password-not-secret-1234"
RULES_SCRIPT = """
import json, sys
from secalerts.rules.models import Rule
from secalerts.rules.registry import bump_version
conditions = json.load(sys.stdin)
Rule.objects.bulk_create(Rule(name=f"sigma {n}", severity="medium", condition=c)
                         for n, c in enumerate(conditions))
bump_version()
"""


def cpu_seconds(pid: int) -> float:
    """User + system time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # clock ticks: USER_HZ is 100


async def http(label: str, conditions: list[dict], events: list[dict], count: int) -> float:
    """Events/s of 1000-event batches POSTed one after another to one Daphne over
    SQLite, and per second of the server's CPU."""
    url = reset_database("sqlite", "bench_rule_index")
    manage(url, "create_user", "bench", "--role", "analyst", "--password-stdin",
           stdin=PASSWORD + "\n")  # fmt: skip
    if conditions:
        manage(url, "shell", "-c", RULES_SCRIPT, stdin=json.dumps(conditions))
    bodies = []
    for batch in batches(events, count + 1):
        for event in batch:
            event["id"], event["timestamp"] = str(event["id"]), event["timestamp"].isoformat()
        bodies.append(json.dumps(batch).encode())
    with daphne(url) as server:
        headers = {"Content-Type": "application/json",
                   "Authorization": f"Bearer {await token(server.port, 'bench', PASSWORD)}"}  # fmt: skip
        conn = await Connection(server.port).open()
        status, answer = await conn.request("POST", "/api/events/", bodies[0], headers)  # warm-up
        assert status == 201, answer[:300]
        alerts = len(json.loads(answer)["alerts"])
        cpu, began = cpu_seconds(server.process.pid), time.perf_counter()
        for body in bodies[1:]:
            status, answer = await conn.request("POST", "/api/events/", body, headers)
            assert status == 201, answer[:300]
        elapsed, cpu = time.perf_counter() - began, cpu_seconds(server.process.pid) - cpu
        conn.close()
    sent = BATCH * count
    print(f"HTTP, {label}: {sent / elapsed:,.0f} events/s, {sent / cpu:,.0f} per server CPU"
          f" second ({count} batches of {BATCH}; {alerts} alerts from the first)")  # fmt: skip
    return sent / cpu


def mean(values: list[int]) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1200,4000")
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per figure")
    parser.add_argument("--http", action="store_true", help="also through a real Daphne")
    parser.add_argument("--only-http", action="store_true", help="through Daphne alone")
    parser.add_argument("--batches", type=int, default=20, help="batches per HTTP figure")
    parser.add_argument("--mixes", default="everyday,attacks", help="HTTP event mixes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(machine_speed())
    if not args.only_http:
        engine(sizes, args.seconds)
    if args.http or args.only_http:
        sigma = sigma_rules()
        mixes = {
            "everyday": ("everyday process starts, 1% attack samples", True),
            "attacks": ("attack samples only", False),
        }
        for mix in args.mixes.split(","):
            label, everyday = mixes[mix]
            events = sysmon_events(everyday=everyday)
            print(f"== HTTP, {label}")
            base = asyncio.run(http("shipped rules only", [], events, args.batches))
            for size in sizes:
                cpu_rate = asyncio.run(
                    http(f"{size} rules", rule_set(sigma, size), events, args.batches)
                )
                print(f"  {cpu_rate / base:.2f} of the shipped-rules rate per server CPU second")


if __name__ == "__main__":
    main()
