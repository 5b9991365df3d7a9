"""The alert queue in a real browser: filters in the URL, triage (single, bulk, keyboard,
and a second browser seeing it), what an Analyst sees, an empty and a 10,000-alert queue."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secalerts.alerts.models import Alert, AlertHistory, AlertStatus
from secalerts.alerts.tests.factories import AlertFactory, RuleFactory
from tests.e2e.console.conftest import assert_accessible, screenshot, sign_in


@pytest.fixture
def console(module_console: str) -> str:
    return module_console


def test_filters_round_trip_through_the_url(open_page, analyst_user, transactional_db):
    high = AlertFactory(severity="high", title="High one")
    low = AlertFactory(severity="low", title="Low one")
    resolved = AlertFactory(severity="high", status=AlertStatus.RESOLVED, title="Done one")
    page = open_page()
    sign_in(page, analyst_user, "/?severity=high&status=open")

    expect(page.locator(f"#alert-{high.pk}")).to_be_visible()
    expect(page.locator(f"#alert-{low.pk}")).to_have_count(0)
    expect(page.locator(f"#alert-{resolved.pk}")).to_have_count(0)
    expect(page.locator("input[name=severity][value=high]")).to_be_checked()
    expect(page.locator("input[name=status][value=open]")).to_be_checked()

    page.check("input[name=severity][value=low]")

    expect(page.locator(f"#alert-{low.pk}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/\?status=open&severity=high&severity=low$"))
    page.fill("input[name=search]", "low")
    page.press("input[name=search]", "Enter")
    expect(page.locator(f"#alert-{high.pk}")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"search=low$"))

    page.reload()
    expect(page.locator("input[name=search]")).to_have_value("low")
    expect(page.locator(f"#alert-{low.pk}")).to_be_visible()
    expect(page.locator("#rows tr")).to_have_count(1)

    page.go_back()
    expect(page.locator(f"#alert-{high.pk}")).to_be_visible()
    expect(page.locator("input[name=search]")).to_have_value("")


def test_admin_acknowledges_an_alert_and_a_second_browser_sees_it(
    open_page, admin_user, analyst_user, transactional_db
):
    alert = AlertFactory(title="Brute-force login: 203.0.113.9")
    analyst = open_page()
    sign_in(analyst, analyst_user)
    expect(analyst.locator("#live")).to_have_text("Live")
    admin = open_page()
    sign_in(admin, admin_user, f"/alerts/{alert.pk}/")
    expect(admin.locator("#live")).to_have_text("Live")

    admin.fill("#note", "seen it, checking the firewall")
    admin.click("#transitions button[data-status=acknowledged]")

    expect(admin.locator("#alert-status")).to_have_text("Acknowledged")
    expect(admin.locator("#history")).to_contain_text("status: Open → Acknowledged")
    expect(admin.locator("#history")).to_contain_text("seen it, checking the firewall")
    expect(analyst.locator(f"#alert-{alert.pk}")).to_contain_text("Acknowledged")
    history = AlertHistory.objects.get(alert=alert)
    assert (history.new_value, history.note) == ("acknowledged", "seen it, checking the firewall")
    screenshot(admin, "alert-acknowledged")


def test_bulk_triage_shows_the_apis_reason_for_an_invalid_transition(
    open_page, admin_user, transactional_db
):
    open_alert = AlertFactory(status=AlertStatus.OPEN)
    done = AlertFactory(status=AlertStatus.RESOLVED)
    page = open_page()
    page.problems.allow(r"400 PATCH .*/api/alerts/$")
    page.problems.allow(r"console Failed to load resource: .* 400")
    sign_in(page, admin_user)

    page.check(f"#alert-{open_alert.pk} input[type=checkbox]")
    page.check(f"#alert-{done.pk} input[type=checkbox]")
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.click("#bulk button[data-status=acknowledged]")

    expect(page.locator("#message")).to_contain_text("resolved")
    expect(page.locator("#message")).to_have_attribute("data-kind", "error")
    assert set(Alert.objects.values_list("status", flat=True)) == {"open", "resolved"}

    page.uncheck(f"#alert-{done.pk} input[type=checkbox]")
    page.click("#bulk button[data-status=resolved]")

    expect(page.locator("#message")).to_have_text("Resolved: 1 alert.")
    expect(page.locator(f"#alert-{open_alert.pk}")).to_contain_text("Resolved")


def test_keyboard_moves_and_triages(open_page, admin_user, transactional_db):
    now = timezone.now()
    older = AlertFactory(created_at=now - timedelta(minutes=1))
    newer = AlertFactory(created_at=now)
    page = open_page()
    sign_in(page, admin_user)
    expect(page.locator(f"#alert-{older.pk}")).to_be_visible()

    page.keyboard.press("j")
    expect(page.locator(f"#alert-{newer.pk}")).to_have_class(re.compile("current"))
    page.keyboard.press("j")
    expect(page.locator(f"#alert-{older.pk}")).to_have_class(re.compile("current"))
    page.keyboard.press("a")

    expect(page.locator(f"#alert-{older.pk}")).to_contain_text("Acknowledged")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/alerts/{newer.pk}/$"))


def test_analyst_sees_no_triage_controls(open_page, analyst_user, transactional_db):
    alert = AlertFactory()
    page = open_page()
    sign_in(page, analyst_user)
    expect(page.locator(f"#alert-{alert.pk}")).to_be_visible()

    expect(page.locator("#bulk")).to_be_hidden()
    expect(page.locator("#rows input[type=checkbox]")).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("a")  # an Admin's shortcut: nothing happens
    page.goto(f"/alerts/{alert.pk}/")
    expect(page.locator("#alert-status")).to_have_text("Open")
    expect(page.locator("#triage")).to_be_hidden()
    expect(page.locator("button", has_text="Acknowledge")).to_have_count(0)
    expect(page.locator("nav a", has_text="API keys")).to_be_hidden()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_queue_with_no_alerts(open_page, analyst_user, transactional_db):
    page = open_page()
    sign_in(page, analyst_user)

    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#load-more")).to_be_hidden()
    assert_accessible(page)
    screenshot(page, "queue-empty")


def test_a_queue_over_ten_thousand_alerts_shows_pages(open_page, admin_user, transactional_db):
    rule = RuleFactory(name="Bulk")
    start = timezone.now() - timedelta(days=1)
    Alert.objects.bulk_create(
        (
            Alert(
                title=f"Brute-force login: 10.0.{i // 250}.{i % 250}",
                severity=("low", "medium", "high", "critical")[i % 4],
                severity_rank=1 + i % 4,
                status="open",
                rule=rule,
                group_key=f"{i:064x}",
                source_ip=f"10.0.{i // 250}.{i % 250}",
                event_count=1,
                first_seen=start + timedelta(seconds=i),
                last_seen=start + timedelta(seconds=i),
                created_at=start + timedelta(seconds=i),
                updated_at=start + timedelta(seconds=i),
            )
            for i in range(10_000)
        ),
        batch_size=2000,
    )
    page = open_page()
    sign_in(page, admin_user)

    expect(page.locator("#rows tr")).to_have_count(50)
    expect(page.locator("#rows tr").first).to_contain_text("10.0.39.249")  # the newest
    page.click("#load-more")
    expect(page.locator("#rows tr")).to_have_count(100)
    page.check("input[name=severity][value=critical]")
    expect(page.locator("#rows tr")).to_have_count(50)
    expect(page.locator("#rows .badge.sev-high")).to_have_count(0)
    screenshot(page, "queue-10000")
