"""PostgreSQL plans of the common alert-list queries use indexes, not a scan of the table."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from secalerts.alerts.models import Alert
from secalerts.alerts.tests.factories import RuleFactory

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def many_alerts(db, admin_user):
    rule = RuleFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO alerts_alert (title, description, severity, severity_rank, status, rule_id,
                "group", group_key, source_ip, event_count, first_seen, last_seen, assigned_to_id,
                created_at, updated_at)
            SELECT 'Brute-force login: ' || i, '', (ARRAY['info','low','medium','high','critical'])[1 + i %% 5],
                i %% 5, (ARRAY['open','acknowledged','resolved','false_positive'])[1 + i %% 4],
                CASE WHEN i %% 50 = 0 THEN %s END, '{}', md5(i::text),
                ('10.' || (i %% 250) || '.' || (i %% 200) || '.1')::inet, 1,
                %s + i * interval '1 second', %s + i * interval '1 second',
                CASE WHEN i %% 100 = 0 THEN %s END,
                %s + i * interval '1 second', %s + i * interval '1 second'
            FROM generate_series(1, 20000) AS i
            """,
            [rule.pk, T0, T0, admin_user.pk, T0, T0],
        )
        cursor.execute("ANALYZE alerts_alert")
    return rule


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.requires_postgres
@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("first page", lambda qs, rule: qs.order_by("-created_at", "-id")),
        ("status", lambda qs, rule: qs.filter(status="open").order_by("-created_at", "-id")),
        ("severity", lambda qs, rule: qs.filter(severity__in=["high", "critical"]).order_by("-created_at", "-id")),
        ("rule", lambda qs, rule: qs.filter(rule_id=rule.pk).order_by("-created_at", "-id")),
        ("source ip", lambda qs, rule: qs.filter(source_ip="10.7.7.1").order_by("-created_at", "-id")),
        ("created after", lambda qs, rule: qs.filter(created_at__gte=T0 + timedelta(hours=5)).order_by("-created_at", "-id")),
        ("by severity", lambda qs, rule: qs.order_by("-severity_rank", "-id")),
        ("by last seen", lambda qs, rule: qs.order_by("-last_seen", "-id")),
        ("deep cursor", lambda qs, rule: qs.filter(created_at__lte=T0 + timedelta(seconds=900)).order_by("-created_at", "-id")),
    ],
)  # fmt: skip
def test_common_alert_list_queries_use_an_index(many_alerts, name, build):
    queryset = build(Alert.objects.for_listing(), many_alerts)[:51]

    text = plan(queryset)

    assert "Seq Scan on alerts_alert" not in text, text
    assert "Index" in text, text
