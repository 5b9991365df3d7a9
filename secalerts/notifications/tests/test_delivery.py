"""Deliveries from alert change to receiver, through the real task queue and worker
(django-tasks-db's, run in this process), to real HTTP and SMTP servers."""

import json
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY

from secalerts.alerts.notifications import notify_alerts
from secalerts.alerts.tests.factories import AlertFactory, RuleFactory
from secalerts.notifications import services
from secalerts.notifications.models import Channel, Delivery, DeliveryStatus
from secalerts.notifications.tests.helpers import raise_alerts, run_due_tasks
from secalerts.notifications.tests.receivers import smtp_server, webhook_receiver
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "webhook-secret"


def webhook(url: str, **fields: object) -> Channel:
    return services.create_channel(
        name=str(fields.pop("name", "hook")),
        kind="webhook",
        url=url,
        secret=SECRET,
        on=fields.pop("on", ["alert.created", "alert.updated"]),
        **fields,
    )


def test_every_alert_of_a_1000_alert_run_is_delivered_once_and_signed():
    rule = RuleFactory()
    with webhook_receiver() as receiver:
        webhook(receiver.url)
        alerts = raise_alerts(1000, rule=rule)

        run_due_tasks()

        received = receiver.received
        assert len(received) == 1000
        assert all(r.signed_by(SECRET) for r in received)
        bodies = [r.json() for r in received]
        assert {b["alert"]["id"] for b in bodies} == {a.pk for a in alerts}
        assert {b["type"] for b in bodies} == {"alert.created"}
        assert max(Counter(b["delivery_id"] for b in bodies).values()) == 1
        assert received[0].headers["X-Delivery-Id"] == bodies[0]["delivery_id"]
    assert Delivery.objects.filter(status=DeliveryStatus.SENT).count() == 1000


def test_a_receiver_down_for_a_while_gets_everything_after_and_nothing_twice(
    settings, admin_user, bearer, api_client
):
    settings.NOTIFY_RETRY_FIRST_SECONDS = 0.05
    before = {result: delivered(result) for result in ("sent", "retrying")}
    with webhook_receiver() as receiver:
        webhook(receiver.url)
        receiver.status = 503
        alerts = raise_alerts(50)

        run_due_tasks()

        assert len(receiver.received) >= 50
        assert not receiver.delivery_ids()
        api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
        log = api_client.get(reverse("notifications:deliveries")).json()["results"]
        assert {d["status"] for d in log} == {"pending"}
        assert log[0]["attempt_log"][0]["response_code"] == 503
        assert all(d["next_retry_at"] is not None and d["attempts"] >= 1 for d in log)

        def retried() -> bool:
            run_due_tasks()
            return len(receiver.received) >= 100

        wait_until(retried, 30, "a retry of every delivery")
        receiver.status = 200

        def all_sent() -> bool:
            run_due_tasks()
            return not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()

        wait_until(all_sent, 30, "every delivery sent once the receiver is back")
        accepted = receiver.delivery_ids()
    assert sorted(accepted) == sorted(str(d.pk) for d in Delivery.objects.all())
    assert len(accepted) == len(alerts)
    assert all(d.attempts >= 3 for d in Delivery.objects.all())
    # /metrics counts the attempts by result, and the outbox emptied.
    attempts = sum(d.attempts for d in Delivery.objects.all())
    assert delivered("sent") - before["sent"] == 50
    assert delivered("retrying") - before["retrying"] == attempts - 50
    assert REGISTRY.get_sample_value("secalerts_notification_queue_depth") == 0


def delivered(result: str) -> float:
    labels = {"result": result}
    return REGISTRY.get_sample_value("secalerts_notification_deliveries_total", labels) or 0


def test_a_delivery_still_failing_when_its_retry_time_is_over_is_marked_failed(settings):
    settings.NOTIFY_RETRY_FOR_SECONDS = 0
    with webhook_receiver() as receiver:
        webhook(receiver.url)
        receiver.status = 500
        raise_alerts(1)

        run_due_tasks()

    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    assert delivery.response_code == 500
    assert delivery.attempts == 1
    assert not DBTaskResult.objects.filter(status="READY").exists()


def test_channels_receive_only_what_their_filters_ask_for():
    wanted, other = RuleFactory(), RuleFactory()
    with webhook_receiver() as receiver:
        webhook(receiver.url, name="high", severity_min="high", on=["alert.created"])
        webhook(receiver.url, name="rule", rules=[wanted.pk], on=["alert.updated"])
        low = raise_alerts(1, severity="low", rule=wanted)[0]
        critical = raise_alerts(1, severity="critical", rule=other)[0]
        with transaction.atomic():
            notify_alerts(updated=[low.pk, critical.pk])

        run_due_tasks()

        sent = sorted((r.json()["type"], r.json()["alert"]["id"]) for r in receiver.received)
    assert sent == sorted([("alert.created", critical.pk), ("alert.updated", low.pk)])


@transaction.atomic
def change_then_fail() -> None:
    notify_alerts(created=[AlertFactory().pk])
    raise RuntimeError("the alert change fails")


def test_an_alert_change_rolled_back_leaves_no_delivery():
    with webhook_receiver() as receiver:
        webhook(receiver.url)
        with pytest.raises(RuntimeError):
            change_then_fail()

    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_with_no_channels_an_alert_change_writes_nothing_more():
    raise_alerts(3)

    assert not Delivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_name_resolving_to_a_private_address_is_refused_at_send_when_private_is_off(settings):
    with webhook_receiver() as receiver:
        channel = webhook(receiver.url.replace("127.0.0.1", "localhost"))
        settings.NOTIFY_ALLOW_PRIVATE = False
        raise_alerts(1)

        run_due_tasks()

        assert receiver.received == []
    delivery = Delivery.objects.get(channel=channel)
    assert delivery.status == DeliveryStatus.FAILED  # refused: not retried
    assert "NOTIFY_ALLOW_PRIVATE" in delivery.error


def test_a_channel_pointed_at_a_metadata_address_after_saving_is_refused_at_send():
    channel = webhook("https://hooks.example.com/in")
    # As if its name now resolved there: changed around the API's checks.
    Channel.objects.filter(pk=channel.pk).update(url="http://169.254.169.254/latest/meta-data/")
    services.create_channel(name="bump", kind="email", to=["a@example.com"], on=[])  # new stamp
    raise_alerts(1)

    run_due_tasks()

    delivery = Delivery.objects.get(channel=channel)
    assert delivery.status == DeliveryStatus.FAILED
    assert "refused" in delivery.error
    assert "metadata" in delivery.error


def test_slack_gets_an_incoming_webhook_message_with_blocks():
    with webhook_receiver() as receiver:
        services.create_channel(name="slack", kind="slack", url=receiver.url, on=["alert.created"])
        alert = raise_alerts(1, severity="critical", title="Brute force from 203.0.113.9")[0]

        run_due_tasks()

        message = receiver.received[0].json()
    assert message["text"] == f"New critical alert #{alert.pk}: Brute force from 203.0.113.9"
    assert message["blocks"][0]["type"] == "header"
    fields = [f["text"] for b in message["blocks"] if b["type"] == "section" for f in b["fields"]]
    assert "*Severity*\ncritical" in fields
    assert "X-Signature-256" not in receiver.received[0].headers


def test_email_goes_through_the_smtp_backend_to_a_real_smtp_server(settings):
    with smtp_server() as (port, messages):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
            }
        }
        services.create_channel(
            name="soc", kind="email", to=["soc@example.com"], on=["alert.created"]
        )
        alert = raise_alerts(1, title="Port scan")[0]

        run_due_tasks()

        assert len(messages) == 1
        message = messages[0]
    delivery = Delivery.objects.get()
    assert message["To"] == "soc@example.com"
    assert message["X-Rcpt-To"] == "soc@example.com"
    assert message["Subject"] == f"[secalerts] New high alert #{alert.pk}: Port scan"
    assert message["X-Secalerts-Delivery-Id"] == str(delivery.pk)
    assert f"Delivery id: {delivery.pk}" in message.get_payload()
    assert delivery.status == DeliveryStatus.SENT


def test_a_test_send_reaches_the_receiver_signed_and_is_logged(api_client, admin_user, bearer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
    with webhook_receiver() as receiver:
        channel = webhook(receiver.url)

        answer = api_client.post(reverse("notifications:channel-test", args=[channel.pk]))

        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "sent"
        assert body["type"] == "test"
        assert body["response_code"] == 200
        [received] = receiver.received
    assert received.signed_by(SECRET)
    assert json.loads(received.body) == {
        "type": "test",
        "alert": None,
        "delivery_id": body["delivery_id"],
    }


def test_a_failed_test_send_answers_with_the_error(api_client, admin_user, bearer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
    with webhook_receiver() as receiver:
        url = receiver.url
    channel = webhook(url)  # nothing listens there any more

    body = api_client.post(reverse("notifications:channel-test", args=[channel.pk])).json()

    assert body["status"] == "failed"
    assert body["next_retry_at"] is None
    assert "Connection" in body["error"]


def test_the_delivery_log_filters_and_refuses_bad_filters(api_client, admin_user, bearer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
    channel = webhook("https://hooks.example.com/in")
    raise_alerts(2)
    url = reverse("notifications:deliveries")

    assert len(api_client.get(url, {"channel": channel.pk}).json()["results"]) == 2
    assert api_client.get(url, {"status": "sent"}).json()["results"] == []
    assert api_client.get(url, {"status": "lost"}).status_code == 400
    assert api_client.get(url, {"channel": "x"}).status_code == 400
    assert (
        timezone.now() - timedelta(minutes=1) < Delivery.objects.earliest("created_at").created_at
    )


def test_alerts_raised_by_ingest_are_in_the_outbox_when_the_batch_commits(
    api_client, admin_user, bearer
):
    from secalerts.rules.services import create_rule

    create_rule(
        name="scan",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "net.scan"},
        group_by=["source_ip"],
    )
    api_client.credentials(HTTP_AUTHORIZATION=bearer(admin_user))
    events = [
        {"event_type": "net.scan", "source": "fw", "source_ip": f"203.0.113.{n}"} for n in (1, 2)
    ]
    with webhook_receiver() as receiver:
        webhook(receiver.url, on=["alert.created"])

        answer = api_client.post("/api/events/", events, format="json")

        assert answer.status_code == 201
        created = set(answer.json()["alerts"])
        assert set(Delivery.objects.values_list("alert_id", flat=True)) == created
        run_due_tasks()
        assert {r.json()["alert"]["id"] for r in receiver.received} == created
