"""Every console page in a real browser: accessible (axe-core), readable on a desktop and a
phone (screenshots), clean (no console error, no failed request); sessions that lapse and
end; rules, API keys and the overview; the API docs loading nothing from other hosts."""

import json
import re
import urllib.request
from datetime import timedelta
from urllib.error import HTTPError

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from secalerts.accounts.api_keys import create_key
from secalerts.accounts.models import ApiKey
from secalerts.alerts.tests.factories import AlertFactory, RuleFactory
from secalerts.rules.models import Rule
from tests.e2e.console.conftest import DESKTOP, PHONE, assert_accessible, screenshot, sign_in

TOKENS = "secalerts.tokens"


@pytest.fixture
def console(module_console: str) -> str:
    return module_console


@pytest.mark.parametrize(("viewport", "size"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_every_page_is_accessible_and_clean(
    open_page, admin_user, transactional_db, viewport, size
):
    rule = RuleFactory(name="Password guessing", description="Five failures in a minute.")
    alert = AlertFactory(rule=rule, severity="critical", title="Password guessing: 203.0.113.9")
    AlertFactory(rule=rule, severity="medium", source_ip="198.51.100.4")
    create_key(name="edge sensor", scopes=["ingest"], created_by=admin_user)
    page = open_page(viewport)
    page.goto("/login/")
    expect(page.locator("#login-form")).to_be_visible()
    assert_accessible(page)
    screenshot(page, f"login-{size}")
    sign_in(page, admin_user)
    pages = {
        "queue": ("/", "#live", "Live"),
        "alert": (f"/alerts/{alert.pk}/", "#alert-status", "Open"),
        "overview": ("/overview/", "#top-rules", "Password guessing"),
        "rules": ("/rules/", "#rules", "Password guessing"),
        "keys": ("/keys/", "#keys", "edge sensor"),
    }

    for name, (path, selector, text) in pages.items():
        page.goto(path)
        expect(page.locator(selector)).to_contain_text(text)
        assert_accessible(page)
        screenshot(page, f"{name}-{size}")


def test_overview_draws_the_series_and_links_the_top_lists_to_the_queue(
    open_page, analyst_user, transactional_db
):
    rule = RuleFactory(name="Malware seen")
    for severity in ("high", "critical", "critical"):
        AlertFactory(rule=rule, severity=severity, source_ip="192.0.2.50")
    page = open_page()
    sign_in(page, analyst_user, "/overview/")

    expect(page.locator("#totals")).to_contain_text("3 all")
    expect(page.locator("#series-chart rect.bar.sev-critical")).to_have_count(1)
    expect(page.locator("#top-ips")).to_contain_text("192.0.2.50")
    page.select_option("#range select[name=bucket]", "day")
    expect(page).to_have_url(re.compile(r"/overview/\?bucket=day$"))
    expect(page.locator("#series-table tbody tr")).to_have_count(31)
    page.click("#top-rules a")

    expect(page).to_have_url(re.compile(rf"/\?rule={rule.pk}$"))
    expect(page.locator("#rows tr")).to_have_count(3)


def test_a_lapsed_access_token_is_refreshed_and_a_dead_session_returns_to_sign_in(
    open_page, analyst_user, transactional_db
):
    page = open_page()
    page.problems.allow(r"401 POST .*/api/token/refresh/")
    page.problems.allow(r"console Failed to load resource: .* 401")
    sign_in(page, analyst_user)
    expect(page.locator("#live")).to_have_text("Live")

    # An unusable access token beside a good refresh token: renewed, no sign-in.
    page.evaluate(
        "key => { const t = JSON.parse(localStorage.getItem(key));"
        " t.access = 'not-a-token'; localStorage.setItem(key, JSON.stringify(t)); }",
        TOKENS,
    )
    page.goto("/overview/?bucket=day")
    expect(page.locator("#totals")).to_contain_text("0 all")
    assert json.loads(page.evaluate("k => localStorage.getItem(k)", TOKENS))["access"] != (
        "not-a-token"
    )

    # Neither token usable: back to sign-in, and after it to the page we were on.
    page.evaluate(
        "key => localStorage.setItem(key, JSON.stringify({access: 'x', refresh: 'y'}))", TOKENS
    )
    page.goto("/rules/")
    expect(page).to_have_url(re.compile(r"/login/\?next=%2Frules%2F$"))
    page.fill("#username", analyst_user.username)
    page.fill("#password", "correct-horse-battery-staple")
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"/rules/$"))


def test_sign_out_revokes_the_refresh_token(open_page, console, analyst_user, transactional_db):
    page = open_page()
    sign_in(page, analyst_user)
    refresh = json.loads(page.evaluate("k => localStorage.getItem(k)", TOKENS))["refresh"]

    page.click("#sign-out")

    expect(page).to_have_url(re.compile(r"/login/$"))
    assert page.evaluate("k => localStorage.getItem(k)", TOKENS) is None
    request = urllib.request.Request(
        f"{console}/api/token/refresh/",
        data=json.dumps({"refresh": refresh}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 401


def test_wrong_password_says_so(open_page, analyst_user, transactional_db):
    page = open_page()
    page.problems.allow(r"401 POST .*/api/token/$")
    page.problems.allow(r"console Failed to load resource: .* 401")
    page.goto("/login/")

    page.fill("#username", analyst_user.username)
    page.fill("#password", "wrong")
    page.click("#login-form button[type=submit]")

    expect(page.locator("#message")).to_have_text("Wrong username or password.")


def test_admin_disables_a_rule_and_an_analyst_cannot(
    open_page, admin_user, analyst_user, transactional_db
):
    rule = RuleFactory(name="Noisy rule", enabled=True)
    admin = open_page()
    sign_in(admin, admin_user, "/rules/")

    admin.uncheck(f"#rule-{rule.pk} input[type=checkbox]")

    expect(admin.locator("#message")).to_have_text("Noisy rule: disabled.")
    assert Rule.objects.get(pk=rule.pk).enabled is False
    analyst = open_page()
    sign_in(analyst, analyst_user, "/rules/")
    expect(analyst.locator(f"#rule-{rule.pk} input[type=checkbox]")).to_be_disabled()


def test_admin_creates_a_key_sees_it_once_and_revokes_it(open_page, admin_user, transactional_db):
    page = open_page()
    sign_in(page, admin_user, "/keys/")

    page.fill("#new-key input[name=name]", "dmz sensor")
    page.fill("#new-key input[name=source]", "dmz")
    page.click("#new-key button[type=submit]")

    expect(page.locator("#new-key-value")).to_contain_text(re.compile(r"^sak_"))
    key = ApiKey.objects.get(name="dmz sensor")
    row = page.locator(f"#key-{key.pk}")
    expect(row).to_contain_text("active")
    row.get_by_role("button", name="Revoke").click()
    row.get_by_role("button", name="Revoke dmz sensor for good").click()
    expect(page.locator(f"#key-{key.pk}")).to_contain_text("revoked")
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.parametrize(("path", "ready"), [("/redoc/", "h1"), ("/swagger/", ".info .title")])
def test_api_docs_load_nothing_from_other_hosts(open_page, console, transactional_db, path, ready):
    page = open_page()
    # ReDoc's sidebar credit points an <img> at its CDN; the policy stops it in the browser.
    page.problems.allow(r"console Loading the image 'https://cdn\.redoc\.ly/.*violates")
    page.problems.allow(r"failed https://cdn\.redoc\.ly/\S+ csp")
    hosts = set()
    page.on(
        "request", lambda request: hosts.add(re.sub(r"^(https?://[^/]+).*", r"\1", request.url))
    )

    response = page.goto(path)

    expect(page.locator(ready).first).to_contain_text("Security Event & Alert Backend API")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    origins = {host for host in hosts if host.startswith("http")}  # not blob: (ReDoc's worker)
    assert origins - {console, "https://cdn.redoc.ly"} == set()
    screenshot(page, f"docs-{path.strip('/')}")


def test_analyst_tests_a_rule_and_admin_suppresses(
    open_page, admin_user, analyst_user, transactional_db
):
    from secalerts.tuning.models import Suppression

    rule = RuleFactory(name="Scanner noise", enabled=True)
    analyst = open_page()
    sign_in(analyst, analyst_user, "/rules/")

    analyst.click("#rule-test button[type=submit]")  # the example rule and events

    expect(analyst.locator("#rule-test-result")).to_contain_text("Matched events: 0, 1, 2")
    expect(analyst.locator("#rule-test-result")).to_contain_text("high SSH guessing: 203.0.113.9")
    expect(analyst.locator("#new-suppression")).to_be_hidden()
    admin = open_page()
    admin.problems.allow(r"400 POST .*/api/suppressions/$")  # the refused expiry, below
    admin.problems.allow(r"console Failed to load resource: .* 400")
    sign_in(admin, admin_user, "/rules/")
    admin.select_option("#new-suppression select[name=rule]", label="Scanner noise")
    admin.fill("#new-suppression input[name=group]", '{"source_ip": "10.0.0.5"}')
    admin.fill("#new-suppression input[name=reason]", "Qualys scanner")
    admin.fill("#new-suppression input[name=expires_at]", "2099-01-01")
    admin.click("#new-suppression button[type=submit]")
    expect(admin.locator("#message")).to_contain_text("Must lie in the future, at most 90 days")
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    admin.fill("#new-suppression input[name=expires_at]", tomorrow)
    admin.click("#new-suppression button[type=submit]")

    expect(admin.locator("#message")).to_have_text("Suppression created.")
    suppression = Suppression.objects.get()
    expect(admin.locator(f"#suppression-{suppression.pk}")).to_contain_text("Qualys scanner")
    assert (suppression.rule_id, suppression.group) == (rule.pk, {"source_ip": "10.0.0.5"})
