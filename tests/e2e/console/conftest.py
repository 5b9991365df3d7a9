"""A real browser for the console tests: Debian's Chromium driven by Playwright, against a
real Daphne. Every page a test opens fails it on a console error, an uncaught exception or
a failed request (an answer >= 400 included) that the test did not say it expects.

Screenshots go to var/screenshots/ (kept by CI as artifacts)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from conftest import PASSWORD
from tests.e2e.conftest import DAPHNE, free_port, test_database_url, wait_for_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
# No browser test takes a tenth of this; a call that never answers fails the test then.
WATCHDOG_SECONDS = 120
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Problems:
    """What went wrong on a page; `allow` names what a test expects to go wrong."""

    seen: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(a.search(p) for a in self.allowed)]


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an asyncio loop in this thread, so Django takes every
    # ORM call here for one made from async code; none is (the loop only drives the
    # browser). Set per test, and the browser lives per module: no other test runs with it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


KILLS: list[int] = []  # one item per watchdog kill


def _kill_playwright_drivers() -> None:
    """Kills this process's Playwright driver (and with it its browser): every pending
    call then fails at once instead of waiting for an answer that will not come."""
    KILLS.append(1)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"playwright" in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)


@contextlib.contextmanager
def watchdog(seconds: float = WATCHDOG_SECONDS) -> Iterator[None]:
    timer = threading.Timer(seconds, _kill_playwright_drivers)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@pytest.fixture(autouse=True)
def _browser_watchdog() -> Iterator[None]:
    # A browser call with no timeout of its own (evaluate, close) that never returns would
    # hold the whole run until CI's limit.
    with watchdog():
        yield


class Chromium:
    """Debian's chromium under Playwright, launched again if the watchdog killed it, so
    one hung test does not fail the rest of its module."""

    def __init__(self) -> None:
        # Playwright's own objects (imported when first needed), or None before.
        self.playwright: Any = None
        self.browser: Any = None
        self.kills = len(KILLS)

    def get(self) -> Any:
        if self.browser is None or self.kills != len(KILLS):
            self.kills = len(KILLS)
            self.stop()
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            # Debian's build, never one Playwright downloads (this machine reaches no such host).
            self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM))
        return self.browser

    def stop(self) -> None:
        if self.browser is not None:
            with watchdog(), contextlib.suppress(Exception):  # after a kill: already gone
                self.browser.close()
        if self.playwright is not None:
            with watchdog(), contextlib.suppress(Exception):
                self.playwright.stop()
        self.browser = self.playwright = None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    browsers = Chromium()
    yield browsers
    browsers.stop()


@pytest.fixture
def console(start_daphne: Callable[..., str]) -> str:
    return start_daphne()


@pytest.fixture(scope="module")
def module_console(django_db_setup: None) -> Iterator[str]:
    """One Daphne for a whole module (starting one costs about 3 s), for modules whose
    tests ingest nothing: each test still gets its own flushed database."""
    port = free_port()
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "security_backend.test_settings",
        "DATABASE_URL": test_database_url(),
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [str(DAPHNE), "-b", "127.0.0.1", "-p", str(port), "security_backend.asgi:application"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def open_page(chromium, console: str, transactional_db: None) -> Iterator[Callable[..., object]]:
    """`open_page(viewport=DESKTOP)`: a page in a browser context of its own (its own
    storage: a second person), watched for problems until the test ends. Closed before
    the database is flushed, so its page sends nothing into the flush."""
    contexts, watched = [], []

    def open_(viewport: dict[str, int] = DESKTOP) -> object:
        context = chromium.get().new_context(viewport=viewport, base_url=console)
        contexts.append(context)
        page = context.new_page()
        problems = Problems()
        page.problems = problems

        def on_console(message: Any) -> None:
            if message.type == "error":
                problems.seen.append(f"console {message.text}")

        def on_response(response: Any) -> None:
            if response.status >= 400:
                problems.seen.append(f"{response.status} {response.request.method} {response.url}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: problems.seen.append(f"exception {error}"))
        page.on("requestfailed", lambda request: failed(problems, request))
        page.on("response", on_response)
        watched.append(page)
        return page

    yield open_
    failures = {page.url: page.problems.unexpected() for page in watched}
    for context in contexts:
        with contextlib.suppress(Exception):  # its browser may be gone (the watchdog)
            context.close()
    assert not any(failures.values()), failures


def failed(problems: Problems, request) -> None:
    # A navigation cancels what the page it leaves was still loading: not a failure.
    if request.failure != "net::ERR_ABORTED":
        problems.seen.append(f"failed {request.url} {request.failure}")


def sign_in(page, user, next_path: str = "/") -> None:
    """Through the sign-in form, as a person does; waits for the queue to be live."""
    from playwright.sync_api import expect

    page.goto(next_path)
    page.wait_for_url(re.compile(r"/login/"))
    page.fill("#username", user.get_username())
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"^[^?]*(?<!/login/)(\?.*)?$"))
    expect(page.locator("#user-name")).to_contain_text(user.get_username())


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page) -> None:
    """axe-core (bundled by axe-playwright-python) finds nothing serious or critical."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]
    assert bad == [], bad


def post_event(base: str, header: str, **fields: object) -> dict:
    body = {"event_type": "console.test", "source": "sensor-1"} | fields
    request = urllib.request.Request(
        f"{base}/api/events/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
