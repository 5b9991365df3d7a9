"""SQLite: the backend asks for a WAL checkpoint after each commit that wrote, whichever
service wrote (the checkpoint itself: tests/e2e/test_wal_checkpoint.py)."""

import pytest
from django.db import connection, transaction

from secalerts.alerts.models import Alert
from secalerts.alerts.services.triage import change_alert
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.core.sqlite import wal_checkpoint

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log only"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def asked(monkeypatch):
    """The database files a checkpoint was asked for, in order."""
    paths: list[str] = []
    monkeypatch.setattr(wal_checkpoint, "after_commit", paths.append)
    return paths


def test_a_triage_change_asks_for_a_checkpoint_of_its_database(asked, admin_user):
    alert = AlertFactory()  # a single statement in autocommit: no commit of ours
    asked.clear()

    change_alert(alert_id=alert.pk, actor=admin_user, status="resolved")

    assert asked == [connection.settings_dict["NAME"]]


def test_a_transaction_that_only_read_asks_for_none(asked):
    with transaction.atomic():
        AlertFactory()
    asked.clear()

    with transaction.atomic():
        assert Alert.objects.count() == 1

    assert asked == []


def test_a_rolled_back_write_asks_for_none(asked):
    with transaction.atomic():
        AlertFactory()
        transaction.set_rollback(True)

    assert asked == []
    assert not Alert.objects.exists()
