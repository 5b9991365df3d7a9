"""The console's pages are shells under a strict policy: served to anyone (they hold no
data), no inline script or style, every asset from this origin and present."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

PAGES = [
    reverse("console:queue"),
    reverse("console:login"),
    reverse("console:alert", args=[7]),
    reverse("console:overview"),
    reverse("console:rules"),
    reverse("console:keys"),
]


@pytest.mark.parametrize("path", PAGES)
def test_page_is_a_shell_under_a_strict_policy(client, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


@pytest.mark.parametrize("path", PAGES)
def test_every_asset_a_page_names_is_served_from_here(client, path):
    html = client.get(path).content.decode()

    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)

    assert assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset


def test_every_module_a_script_imports_exists():
    root = finders.find("console/js")
    assert isinstance(root, str)

    for script in Path(root).rglob("*.js"):
        for name in re.findall(r'from "(\.[^"]+)"', script.read_text()):
            assert (script.parent / name).resolve().is_file(), (script, name)


def test_pages_answer_only_reads(client):
    assert client.post(reverse("console:queue")).status_code == 405


@pytest.mark.parametrize("name", ["swagger-ui", "redoc"])
def test_docs_pages_widen_the_policy_for_styles_only(client, db, name):
    response = client.get(reverse(name))

    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline'" in policy
    html = response.content.decode()
    assert "fonts.googleapis.com" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
