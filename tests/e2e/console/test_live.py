"""The queue live in a real browser: an event posted through the API makes its alert
appear without reload; the stream is cut and restored and nothing raised meanwhile is
lost. Each test has a Daphne of its own (they ingest, and rules are cached per process)."""

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from secalerts.alerts.tests.factories import RuleFactory
from tests.e2e.console.conftest import post_event, screenshot, sign_in


@pytest.fixture
def test_rule(transactional_db):
    """One alert per `console.test` event (no grouping, so no deduplication)."""
    return RuleFactory(
        name="Console test",
        condition={"field": "event_type", "op": "eq", "value": "console.test"},
        group_by=[],
        severity="high",
    )


def test_admin_signs_in_and_a_posted_event_appears_in_the_open_queue(
    open_page, console, admin_user, bearer, test_rule
):
    page = open_page()
    sign_in(page, admin_user, "/?status=open")
    expect(page.locator("#live")).to_have_text("Live")
    expect(page.locator("#empty")).to_be_visible()

    answer = post_event(console, bearer(admin_user), source_ip="198.51.100.20")

    row = page.locator(f"#alert-{answer['alerts'][0]}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Console test")
    expect(row).to_contain_text("198.51.100.20")
    assert page.url.endswith("/?status=open")
    screenshot(page, "queue-live")


def test_the_stream_is_cut_and_restored_and_the_alert_raised_meanwhile_appears(
    open_page, console, admin_user, bearer, test_rule
):
    page = open_page()
    link: dict[str, Any] = {"cut": False, "sockets": [], "urls": []}

    def relay(socket):
        link["urls"].append(socket.url)
        if link["cut"]:
            socket.close(code=4000, reason="cut by the test")
            return
        socket.connect_to_server()
        link["sockets"].append(socket)

    page.route_web_socket(re.compile(r"/ws/alerts/"), relay)
    sign_in(page, admin_user)
    expect(page.locator("#live")).to_have_text("Live")
    before = post_event(console, bearer(admin_user))["alerts"][0]
    expect(page.locator(f"#alert-{before}")).to_be_visible()

    link["cut"] = True
    for socket in link["sockets"]:
        socket.close(code=4000, reason="cut by the test")
    expect(page.locator("#live")).to_have_text("Reconnecting…")
    meanwhile = post_event(console, bearer(admin_user), source_ip="192.0.2.77")["alerts"][0]
    screenshot(page, "queue-reconnecting")
    link["cut"] = False

    expect(page.locator("#live")).to_have_text("Live", timeout=15_000)
    expect(page.locator(f"#alert-{meanwhile}")).to_be_visible()
    expect(page.locator("#rows tr").first).to_have_id(f"alert-{meanwhile}")
    # It resumed after the last change it had, and the missed one was replayed to it.
    assert "since=" not in link["urls"][0]
    assert re.search(r"[?&]since=[0-9]+", link["urls"][-1])


def resolve(base: str, header: str, alert_id: int) -> None:
    request = urllib.request.Request(
        f"{base}/api/alerts/{alert_id}/",
        data=json.dumps({"status": "resolved"}).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json", "Authorization": header},
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_a_change_to_a_shown_alert_made_while_cut_off_is_replayed_on_reconnect(
    open_page, console, admin_user, bearer, test_rule
):
    """The open queue's first page no longer holds a resolved alert: refetching it could
    not show the change; the stream resumed with ?since= replays it."""
    page = open_page()
    link: dict[str, Any] = {"cut": False, "sockets": []}

    def relay(socket):
        if link["cut"]:
            socket.close(code=4000, reason="cut by the test")
            return
        socket.connect_to_server()
        link["sockets"].append(socket)

    page.route_web_socket(re.compile(r"/ws/alerts/"), relay)
    sign_in(page, admin_user, "/?status=open")
    expect(page.locator("#live")).to_have_text("Live")
    alert = post_event(console, bearer(admin_user))["alerts"][0]
    row = page.locator(f"#alert-{alert}")
    expect(row).to_be_visible()

    link["cut"] = True
    for socket in link["sockets"]:
        socket.close(code=4000, reason="cut by the test")
    expect(page.locator("#live")).to_have_text("Reconnecting…")
    resolve(console, bearer(admin_user), alert)
    link["cut"] = False

    expect(page.locator("#live")).to_have_text("Live", timeout=15_000)
    expect(row).to_contain_text(re.compile("resolved", re.IGNORECASE))
