"""Analyst console benchmark in Debian's chromium against a real Daphne (production
settings, static files collected and served by WhiteNoise).

    .venv/bin/python bench/console.py [--kind postgres|sqlite] [--alerts 100000]
                                      [--loads 20] [--filters 20] [--posts 100]

With that many alerts in a fresh database: the queue's first paint (navigation start to
the first page of rows drawn, and the browser's first contentful paint) and a filter
change (the change to the new rows drawn), both read from the Performance API; then the
time from `POST /api/events/` returning to its alert's row drawn in the open queue, over
`--posts` alerts raised one at a time. Targets: first paint < 500 ms, filter change
< 300 ms, POST -> row p99 < 1 s.
"""

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.alerts import POSTGRES_FILL, SQLITE_FILL
from bench.server import daphne, machine_speed, manage, percentile, reset_database

PASSWORD = "bench-password-not-secret-1234"
CHROMIUM = "/usr/bin/chromium"
RULE = """
from secalerts.rules.services import create_rule
create_rule(name="Console bench", severity="high", group_by=[],
            condition={"field": "event_type", "op": "eq", "value": "console.bench"})
"""
# Stamps, a frame after it is inserted, when each alert row is first drawn (epoch ms).
WATCH_ROWS = """
() => {
  window.drawn = {};
  new MutationObserver((records) => {
    for (const record of records) for (const node of record.addedNodes) {
      if (node.id && !(node.id in window.drawn)) {
        const id = node.id;
        requestAnimationFrame(() => { window.drawn[id] = performance.timeOrigin + performance.now(); });
      }
    }
  }).observe(document.getElementById("rows"), {childList: true});
}
"""
FILTERS = [
    "input[name=severity][value=critical]",
    "input[name=status][value=open]",
    "input[name=severity][value=high]",
    "input[name=status][value=acknowledged]",
]


def summary(label: str, values: list[float]) -> str:
    return (
        f"  {label:<34} p50 {percentile(values, 50):6.1f} ms  p99 {percentile(values, 99):6.1f} ms"
        f"  max {max(values):6.1f} ms  (n={len(values)})"
    )


def marks(page, name: str) -> list[float]:
    return page.evaluate(f"performance.getEntriesByName({json.dumps(name)}).map(e => e.startTime)")


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("#username", "bench")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#live[data-state=live]")


def first_paints(page, base: str, loads: int) -> tuple[list[float], list[float]]:
    rendered, contentful = [], []
    for _ in range(loads):
        page.goto(f"{base}/")
        page.wait_for_function(
            "() => performance.getEntriesByName('console:queue-rendered').length"
        )
        rendered.append(marks(page, "console:queue-rendered")[0])
        fcp = page.evaluate(
            "performance.getEntriesByType('paint')"
            ".filter(e => e.name === 'first-contentful-paint').map(e => e.startTime)"
        )
        contentful.extend(fcp)
    return rendered, contentful


def filter_changes(page, rounds: int) -> list[float]:
    times = []
    for index in range(rounds):
        before = len(marks(page, "console:queue-rendered"))
        page.click(FILTERS[index % len(FILTERS)])
        page.wait_for_function(
            "n => performance.getEntriesByName('console:queue-rendered').length > n", arg=before
        )
        times.append(
            marks(page, "console:queue-rendered")[-1] - marks(page, "console:filter-change")[-1]
        )
    return times


def post_to_row(page, base: str, access: str, posts: int) -> list[float]:
    page.goto(f"{base}/")
    page.wait_for_selector("#live[data-state=live]")
    page.evaluate(WATCH_ROWS)
    times = []
    for index in range(posts):
        body = json.dumps({"event_type": "console.bench", "source": f"bench-{index}"}).encode()
        request = urllib.request.Request(  # noqa: S310 - our own server on loopback
            f"{base}/api/events/",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            alert = json.load(response)["alerts"][0]
            returned = time.time() * 1000
        row = f"alert-{alert}"
        page.wait_for_function("row => row in window.drawn", arg=row)
        drawn = page.evaluate("row => window.drawn[row]", row)
        times.append(drawn - returned)  # negative: drawn before the answer was read
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kind", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--filters", type=int, default=20)
    parser.add_argument("--posts", type=int, default=100)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(machine_speed())
    print(f"\n== console, {args.kind}, {args.alerts:,} alerts")
    url = reset_database(args.kind, "bench_console")
    manage(
        url, "create_user", "bench", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n"
    )
    fill = f"N = {args.alerts}\n" + (POSTGRES_FILL if args.kind == "postgres" else SQLITE_FILL)
    manage(url, "shell", "--no-imports", "-c", fill)
    manage(url, "shell", "--no-imports", "-c", RULE)
    manage(url, "collectstatic", "--noinput", "-v0")
    with daphne(url) as server, sync_playwright() as playwright:
        base = f"http://127.0.0.1:{server.port}"
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        sign_in(page, base)
        access = page.evaluate("JSON.parse(localStorage.getItem('secalerts.tokens')).access")
        rendered, contentful = first_paints(page, base, args.loads)
        print(summary("first paint: rows drawn", rendered))
        print(summary("first paint: first contentful", contentful))
        print(summary("filter change -> rows drawn", filter_changes(page, args.filters)))
        print(
            summary("POST /api/events/ -> row drawn", post_to_row(page, base, access, args.posts))
        )
        browser.close()


if __name__ == "__main__":
    main()
