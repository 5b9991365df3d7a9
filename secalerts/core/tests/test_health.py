"""GET /healthz checks the database and the channel layer."""

import pytest
from django.db import OperationalError
from django.urls import reverse


def test_healthy_service_answers_200_without_auth(client, db):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_database_failure_gives_503(client, db, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr("secalerts.core.health.connection.cursor", broken_cursor)
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


@pytest.mark.requires_redis
def test_unreachable_redis_gives_503(client, db, settings, unused_tcp_port):
    settings.REDIS_URL = f"redis://127.0.0.1:{unused_tcp_port}/0"

    response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["channel_layer"] == "unavailable"
