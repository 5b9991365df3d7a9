"""PostgreSQL plans of the common alert-list queries use indexes, not a scan of the table."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Q

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
    "params",
    [
        {},
        {"status": ["open"]},
        {"severity": ["high", "critical"]},
        {"rule": "RULE"},
        {"source_ip": "10.7.7.1"},
        {"assigned_to": "alice-admin"},
        {"created_after": "2026-01-01T05:00:00Z"},
        {"ordering": "-severity"},
        {"ordering": "-last_seen"},
        {"status": ["open"], "severity": ["critical"], "rule": "RULE"},
    ],
)
def test_common_alert_list_queries_use_an_index(many_alerts, rf, params):
    """The queries the list view really runs: its FilterSet and its ordering."""
    from secalerts.alerts.filters import AlertFilter, AlertOrdering
    from secalerts.alerts.views import AlertListView

    data = {k: (str(many_alerts.pk) if v == "RULE" else v) for k, v in params.items()}
    request = AlertListView().initialize_request(rf.get("/api/alerts/", data))
    filtered = AlertFilter(request.query_params, queryset=Alert.objects.for_listing()).qs
    ordering = AlertOrdering().get_ordering(request, filtered, AlertListView())

    text = plan(filtered.order_by(*ordering)[:51])

    assert "Seq Scan on alerts_alert" not in text, text
    assert "Unique" not in text, text
    assert "Sort" not in text.split("->")[0], text


@pytest.mark.requires_postgres
@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("no such alert", "alert_title_trgm"),  # rare: the trigram index finds the few
        ("brute", "alert_newest"),  # everywhere: newest first, stop after one page
    ],
)
def test_title_search_picks_the_index_for_the_term(many_alerts, term, index):
    queryset = Alert.objects.for_listing().filter(title__icontains=term)

    text = plan(queryset.order_by("-created_at", "-id")[:51])

    assert index in text, text
    assert "Seq Scan on alerts_alert" not in text, text


@pytest.mark.requires_postgres
def test_a_deep_cursor_starts_the_index_scan_at_the_cursor(many_alerts):
    cursor_at = T0 + timedelta(seconds=900)
    queryset = Alert.objects.for_listing().filter(
        Q(created_at__lte=cursor_at) & (Q(created_at__lt=cursor_at) | Q(id__lt=900))
    )

    text = plan(queryset.order_by("-created_at", "-id")[:51])

    assert "Index" in text, text
    assert "Seq Scan on alerts_alert" not in text, text


@pytest.fixture
def many_open_alerts(db):
    """20,000 alerts over 2,000 groups, most still open, as ingestion leaves them."""
    rule = RuleFactory()
    Alert.objects.bulk_create(
        Alert(
            title=f"Brute-force login: {i}",
            severity="high",
            severity_rank=3,
            status="open" if i % 5 else "resolved",
            rule=rule,
            group_key=f"{i % 2000:064x}",
            event_count=1,
            first_seen=T0 + timedelta(minutes=i),
            last_seen=T0 + timedelta(minutes=i, seconds=30),
            created_at=T0 + timedelta(minutes=i),
            updated_at=T0 + timedelta(minutes=i),
        )
        for i in range(20_000)
    )


@pytest.mark.parametrize("with_statistics", [False, True])
def test_the_dedup_look_up_of_open_alerts_finds_each_group_by_its_index(
    many_open_alerts, with_statistics
):
    """Ingestion asks for the open alerts of a batch's groups; it must not walk all of them."""
    from secalerts.alerts.bulk_sql import open_alerts_near, open_alerts_query

    if with_statistics:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE alerts_alert")
    keys = [f"{group:064x}" for group in range(1, 2000, 20)]
    earliest, latest = T0 + timedelta(minutes=18_000), T0 + timedelta(minutes=19_000)
    sql, params = open_alerts_query(keys, earliest, latest)
    explain = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
    with connection.cursor() as cursor:
        cursor.execute(f"{explain} {sql}", params)
        text = "\n".join(str(row[-1]) for row in cursor.fetchall())

    assert "alert_dedup" in text, text
    assert "alert_status" not in text, text
    assert "Seq Scan" not in text, text
    found = open_alerts_near(keys, earliest, latest)
    expected = Alert.objects.filter(
        group_key__in=keys,
        status="open",
        last_seen__gte=earliest,
        first_seen__lte=latest,
    ).order_by("id")
    assert [alert.pk for alert in found] == [alert.pk for alert in expected]
    assert len(found) == 50


@pytest.fixture
def a_month_of_alerts(db):
    """50,000 alerts a minute apart (35 days): a day's overview reads 3% of them."""
    rule = RuleFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO alerts_alert (title, description, severity, severity_rank, status, rule_id,
                "group", group_key, source_ip, event_count, first_seen, last_seen,
                created_at, updated_at)
            SELECT 'Brute-force login: ' || i, '', (ARRAY['info','low','medium','high','critical'])[1 + i %% 5],
                i %% 5, 'open', %s, '{}', md5(i::text), ('10.0.' || (i %% 200) || '.1')::inet, 1,
                %s + i * interval '1 minute', %s + i * interval '1 minute',
                %s + i * interval '1 minute', %s + i * interval '1 minute'
            FROM generate_series(1, 50000) AS i
            """,
            [rule.pk, T0, T0, T0, T0],
        )
        cursor.execute("ANALYZE alerts_alert")


@pytest.mark.requires_postgres
def test_the_overview_queries_read_their_range_by_the_created_at_index(a_month_of_alerts):
    from secalerts.alerts import stats

    window = stats.stats_window(
        bucket="hour", since=T0 + timedelta(days=20), until=T0 + timedelta(days=21), now=T0
    )
    # Trunc annotations need the queryset's own compiler: plan what each function runs.
    series = (
        stats._in_window(window)
        .annotate(start=stats.Trunc("created_at", "hour", tzinfo=UTC))
        .values("start", "severity")
        .annotate(n=stats.Count("id"))
        .order_by()
    )
    rules = stats._in_window(window).values("rule_id").annotate(n=stats.Count("id"))

    for queryset in (series, rules):
        text = plan(queryset)

        assert "alert_newest" in text, text
        assert "Seq Scan on alerts_alert" not in text, text
