"""Every alert path agrees with the model and the one shape: the plain-SQL writes and
reads of the ingest path (bulk_sql), the payloads of lists, details and pushes, the
documented serializer, and the severity scale."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework import serializers

from secalerts.alerts import bulk_sql
from secalerts.alerts.consumers import AlertStreamConsumer
from secalerts.alerts.models import Alert, AlertStatus
from secalerts.alerts.payloads import ALERT_FIELDS, alert_payload, alert_payloads
from secalerts.alerts.serializers import AlertSerializer
from secalerts.alerts.tests.factories import AlertFactory, RuleFactory
from secalerts.detection.schema import SEVERITIES, SEVERITY_RANK
from secalerts.events.models import Severity

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def full_alert(admin_user, **fields) -> Alert:
    """An alert not saved yet, every column holding a value of its own."""
    values = {
        "title": "Brute-force login: 203.0.113.9",
        "description": "d",
        "severity": "critical",
        "severity_rank": SEVERITY_RANK["critical"],
        "status": AlertStatus.ACKNOWLEDGED,
        "rule": RuleFactory(),
        "group": {"source_ip": "203.0.113.9", "n": [1]},
        "group_key": "k" * 64,
        "source_ip": "2001:db8::9",
        "event_count": 7,
        "first_seen": T0,
        "last_seen": T0 + timedelta(seconds=1),
        "assigned_to": admin_user,
        "created_at": T0 + timedelta(seconds=2),
        "updated_at": T0 + timedelta(seconds=3),
    }
    return Alert(**values | fields)


def column_values(alert: Alert) -> dict:
    return {field.attname: getattr(alert, field.attname) for field in Alert._meta.concrete_fields}


def test_the_documented_shape_is_the_payloads():
    assert tuple(AlertSerializer().fields) == ALERT_FIELDS


def test_new_alerts_are_written_with_every_column_by_name(admin_user):
    alert = full_alert(admin_user)

    bulk_sql.insert_alerts([alert])

    assert column_values(Alert.objects.get(pk=alert.pk)) == column_values(alert)


def test_counters_are_read_and_written_by_name(admin_user):
    alert = full_alert(admin_user, status=AlertStatus.OPEN)
    bulk_sql.insert_alerts([alert])

    (near,) = bulk_sql.open_alerts_near([alert.group_key], T0, T0)
    near.event_count, near.last_seen, near.updated_at = 9, T0 + timedelta(hours=1), T0
    near.set_severity("low")
    bulk_sql.update_alert_counters([near])

    stored = Alert.objects.get(pk=alert.pk)
    for name in ("id", "group_key", "first_seen"):
        assert getattr(near, name) == getattr(alert, name)
    for name in ("event_count", "last_seen", "updated_at", "severity", "severity_rank"):
        assert getattr(stored, name) == getattr(near, name)
    assert stored.title == alert.title


def test_every_payload_path_gives_the_shape(admin_user):
    alert = full_alert(admin_user)
    bulk_sql.insert_alerts([alert])
    listed = Alert.objects.for_listing().get(pk=alert.pk)

    payload = alert_payload(listed)

    assert tuple(payload) == ALERT_FIELDS
    assert alert_payloads([alert.pk]) == [payload]
    assert AlertSerializer(listed).data == payload
    assert alert.rule is not None
    assert payload["rule"] == {"id": alert.rule_id, "name": alert.rule.name}
    assert payload["assigned_to"] == admin_user.username
    assert payload["first_seen"] == "2026-01-02T03:04:05.123456Z"


def test_an_alert_without_rule_or_assignee_has_the_shape():
    alert = AlertFactory(rule=None, assigned_to=None)

    assert alert_payloads([alert.pk]) == [alert_payload(alert)]
    assert alert_payload(alert)["rule"] is None


def test_alerts_use_the_one_severity_scale():
    assert Alert._meta.get_field("severity").choices == Severity.choices
    severity = AlertSerializer().fields["severity"]
    assert isinstance(severity, serializers.ChoiceField)
    assert tuple(severity.choices) == SEVERITIES
    assert AlertStreamConsumer.severity_min == SEVERITY_RANK[SEVERITIES[0]]
