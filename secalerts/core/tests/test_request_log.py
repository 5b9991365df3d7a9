"""One structured log line per request, never with a token in it."""

import json
import logging

from django.urls import reverse

from secalerts.core.request_log import JsonFormatter


def test_each_request_logs_method_path_status_and_duration(
    api_client, analyst_user, bearer, caplog
):
    header = bearer(analyst_user)
    caplog.set_level(logging.INFO, logger="secalerts.request")

    api_client.get(reverse("accounts:me") + "?token=secret-in-query", HTTP_AUTHORIZATION=header)

    [record] = [r for r in caplog.records if r.name == "secalerts.request"]
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/me/"
    assert entry["status"] == 200
    assert entry["duration_ms"] >= 0
    assert entry["user_id"] == analyst_user.id
    assert "secret-in-query" not in line
    assert header.split()[1] not in line


def test_login_password_is_never_logged(api_client, db, caplog):
    caplog.set_level(logging.DEBUG)

    api_client.post(
        reverse("accounts:token"), {"username": "x", "password": "hunter2-secret"}, format="json"
    )

    assert "hunter2-secret" not in caplog.text
