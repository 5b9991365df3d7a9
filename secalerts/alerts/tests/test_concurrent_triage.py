"""Two admins changing one alert at once: one consistent alert, a complete history."""

import threading

import pytest
from django.db import connection

from secalerts.alerts.models import Alert, AlertHistory
from secalerts.alerts.services.triage import change_alert
from secalerts.alerts.tests.factories import AlertFactory
from secalerts.core.errors import InvalidTransition


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_concurrent_changes_are_serialized(attempt, admin_user, make_user):
    from secalerts.accounts.roles import Role

    other_admin = make_user(f"admin-two-{attempt}", Role.ADMIN)
    alert = AlertFactory()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(actor, status):
        try:
            barrier.wait(timeout=10)
            change_alert(alert_id=alert.pk, actor=actor, status=status, note=actor.username)
            outcomes.append(status)
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(admin_user, "acknowledged")),
        threading.Thread(target=act, args=(other_admin, "false_positive")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    alert.refresh_from_db()
    history = list(AlertHistory.objects.filter(alert=alert).order_by("id"))
    # Every applied change is in the history, chained: each entry starts where the last ended.
    assert len(history) == sum(outcome != "refused" for outcome in outcomes)
    chain = ["open"] + [h.new_value for h in history]
    assert [h.old_value for h in history] == chain[:-1]
    assert alert.status == chain[-1]
    assert Alert.objects.count() == 1
