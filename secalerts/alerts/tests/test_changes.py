"""The stream's change log (alerts.changes): numbered in commit order, gap-free, pruned;
and the stream's use of it in process: the replay's seam, and pushes relayed in seq
order whatever order the channel layer brings them in."""

import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.alerts import changes, consumers
from secalerts.alerts.changes import Change
from secalerts.alerts.models import AlertChange, AlertChangeCounter
from secalerts.alerts.notifications import ALERTS_GROUP, notify_alerts
from secalerts.alerts.tests.factories import AlertFactory
from security_backend.asgi import application
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def logged() -> list[Change]:
    return [Change(*row) for row in AlertChange.objects.values_list("seq", "kind", "alert_id")]


def test_changes_are_numbered_in_order_and_a_rollback_takes_its_seqs_back():
    first = changes.record({7: "alert.created", 8: "alert.updated"})

    def failing_change() -> None:
        with transaction.atomic():
            changes.record({9: "alert.created"})
            raise RuntimeError("the changing transaction fails")

    with pytest.raises(RuntimeError):
        failing_change()
    second = changes.record({9: "alert.updated"})

    assert first == [Change(1, "alert.created", 7), Change(2, "alert.updated", 8)]
    assert second == [Change(3, "alert.updated", 9)]
    assert logged() == first + second
    assert changes.last_seq() == 3


def test_a_lost_counter_row_starts_again_after_the_log():
    changes.record({1: "alert.created", 2: "alert.created"})
    AlertChangeCounter.objects.all().delete()

    assert changes.record({3: "alert.created"}) == [Change(3, "alert.created", 3)]


def test_notify_alerts_logs_created_and_updated_changes():
    with transaction.atomic():
        notify_alerts(created=[5, 6], updated=[6, 4])

    # An alert both created and updated in one transaction is one creation.
    assert logged() == [
        Change(1, "alert.created", 6),
        Change(2, "alert.updated", 4),
        Change(3, "alert.created", 5),
    ]


def test_prune_keeps_the_newest_changes_of_the_last_day():
    changes.record(dict.fromkeys(range(1, 31), "alert.created"))
    now = timezone.now()
    AlertChange.objects.filter(seq__lte=5).update(created_at=now - timedelta(hours=25))

    assert changes.prune(now=now, keep_changes=20) == 10
    assert [c.seq for c in logged()] == list(range(11, 31))
    assert changes.prune(now=now, keep_changes=20) == 0
    assert changes.prune(now=now + timedelta(days=1, seconds=1)) == 20
    assert changes.last_seq() == 30  # the count goes on


def test_resumable_within_the_log_and_its_bounds(monkeypatch):
    changes.record(dict.fromkeys(range(1, 31), "alert.created"))
    now = timezone.now()
    changes.prune(now=now, keep_changes=20)  # seqs 11..30 kept

    assert [changes.resumable(since, now=now) for since in (9, 10, 29, 30, 31)] == [
        False,
        True,
        True,
        True,
        False,
    ]
    monkeypatch.setattr(changes, "REPLAY_CHANGES", 15)
    assert not changes.resumable(10, now=now)
    assert changes.resumable(15, now=now)
    assert not changes.resumable(15, now=now + timedelta(days=1, seconds=1))


@pytest.mark.requires_postgres
def test_a_second_writer_takes_its_seq_only_once_the_first_has_committed():
    """A sequence would give B seq 2 at once, and B could commit before A's seq 1."""
    taken = threading.Event()
    release = threading.Event()
    results: dict[str, list[Change]] = {}

    def writer(name: str, alert_id: int, hold: bool) -> None:
        try:
            with transaction.atomic():
                results[name] = changes.record({alert_id: "alert.created"})
                taken.set()
                if hold:
                    release.wait(timeout=30)
        finally:
            connection.close()

    first = threading.Thread(target=writer, args=("a", 1, True))
    first.start()
    taken.wait(timeout=30)
    second = threading.Thread(target=writer, args=("b", 2, False))
    second.start()

    def second_waits_on_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] == 1

    wait_until(second_waits_on_a_lock, 30, "the second writer to wait for the counter")
    assert "b" not in results
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert results == {"a": [Change(1, "alert.created", 1)], "b": [Change(2, "alert.created", 2)]}


# ----------------------------------------------------------------- the stream


async def stream(user, query: str = "") -> WebsocketCommunicator:
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
    communicator = WebsocketCommunicator(application, f"/ws/alerts/?token={token}{query}")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def joined(communicator: WebsocketCommunicator) -> None:
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=3) == {"type": "pong"}


async def test_changes_committed_during_the_replay_arrive_once_in_order(analyst_user, monkeypatch):
    alerts = await database_sync_to_async(AlertFactory.create_batch)(12)
    ids = [alert.pk for alert in alerts]
    for alert_id in ids[:6]:
        await database_sync_to_async(notify_alerts)(created=[alert_id])
    monkeypatch.setattr(consumers, "REPLAY_PAGE", 2)
    pages = 0
    original = consumers.replay_page

    async def page_then_change(**kwargs):
        """After each of the first three pages, more changes commit and are pushed."""
        nonlocal pages
        page = await original(**kwargs)
        pages += 1
        if pages <= 3:
            await database_sync_to_async(notify_alerts)(updated=[ids[0]], created=[ids[5 + pages]])
        return page

    monkeypatch.setattr(consumers, "replay_page", page_then_change)
    client = await stream(analyst_user, "&since=1")

    received = [await client.receive_json_from(timeout=3) for _ in range(5 + 6)]
    await joined(client)  # and nothing more came before the pong

    assert [m["seq"] for m in received] == list(range(2, 13))
    assert [m["alert"]["id"] for m in received[:5]] == ids[1:6]
    await client.disconnect()


async def test_a_push_lost_or_late_in_the_channel_layer_is_filled_in_from_the_log(
    analyst_user, monkeypatch
):
    alerts = await database_sync_to_async(AlertFactory.create_batch)(3)
    layer = get_channel_layer()
    assert layer is not None
    held: list[dict] = []
    original = layer.group_send

    async def group_send(group, message):
        if group == ALERTS_GROUP and not held:
            held.append(message)  # the first push is late
            return
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)
    client = await stream(analyst_user)
    await joined(client)

    for alert in alerts:
        await database_sync_to_async(notify_alerts)(updated=[alert.pk])
    received = [await client.receive_json_from(timeout=3) for _ in alerts]
    await original(ALERTS_GROUP, held[0])  # arrives now: relayed already
    await joined(client)

    assert [m["seq"] for m in received] == [1, 2, 3]
    assert [m["alert"]["id"] for m in received] == [alert.pk for alert in alerts]
    await client.disconnect()


@pytest.mark.parametrize(
    ("query", "problem"), [("&since=x", "since"), ("&since=1&severity_min=huge", "severity_min")]
)
async def test_malformed_stream_options_get_an_error_then_close_4400(analyst_user, query, problem):
    client = await stream(analyst_user, query)

    error = await client.receive_json_from(timeout=3)

    assert error["type"] == "error"
    assert problem in error["detail"]
    assert await client.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": consumers.CLOSE_BAD_REQUEST,
    }
