"""Requests written together (ingest.writer) answer exactly as if written alone."""

import asyncio
import json
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import DataError, OperationalError
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts import identity
from secalerts.alerts.models import Alert
from secalerts.events.models import Event
from secalerts.ingest import writer
from secalerts.ingest.writer import Request, write_group
from secalerts.rules.services import create_rule

# write_group closes obsolete connections as a request does, so no test transaction.
pytestmark = pytest.mark.django_db(transaction=True)

# Not an event type the default rules watch: these tests see only their own rule,
# whether or not an earlier transactional test flushed the shipped rules.
GOOD = {"event_type": "vpn.login_failed", "source": "vpn", "source_ip": "192.0.2.50"}


def request(body: object, authorization: str | None, content_type: str = "application/json"):
    headers = {b"content-type": content_type.encode()}
    if authorization:
        headers[b"authorization"] = authorization.encode()
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(headers, raw)


def event(**fields) -> dict:
    return GOOD | {"id": str(uuid.uuid4())} | fields


@pytest.fixture
def three_failures_rule(transactional_db):
    return create_rule(
        name="Three failures",
        severity="high",
        condition={"field": "event_type", "op": "eq", "value": "vpn.login_failed"},
        group_by=["source_ip"],
        threshold={"count": 3, "window_seconds": 60},
    )


def test_each_request_of_a_group_gets_its_own_answer(
    analyst_user, norole_user, bearer, three_failures_rule
):
    analyst = bearer(analyst_user)
    first = event(timestamp="2026-03-01T10:00:00Z")
    batch = [event(timestamp="2026-03-01T10:00:10Z"), event(timestamp="2026-03-01T10:00:20Z")]
    other_ip = event(source_ip="198.51.100.7", timestamp="2026-03-01T10:00:05Z")

    outcomes = write_group(
        [
            request(first, analyst),
            request(first, None),  # no token
            request(first, bearer(norole_user)),  # no role
            request(first | {"source_ip": "not an ip"}, analyst),
            request(b'{"event_type": ', analyst),
            request(first, analyst),  # the same id again: a retry
            request([*batch, first], analyst),  # completes the threshold, repeats `first`
            request(json.dumps(other_ip).encode(), analyst, "application/x-ndjson"),
            request(first, "Bearer not.a.token"),
        ]
    )

    statuses = [outcome.status for outcome in outcomes]
    assert statuses == [201, 401, 403, 400, 400, 200, 201, 201, 401]
    alert = Alert.objects.get()
    assert alert.event_count == 3
    assert outcomes[0].body["id"] == first["id"]
    assert outcomes[0].body["alerts"] == [alert.pk]  # linked to the alert raised with it
    assert outcomes[3].body["errors"] == {"source_ip": ["Enter a valid IPv4 or IPv6 address."]}
    assert outcomes[5].body["id"] == first["id"]
    assert outcomes[5].body["alerts"] == []  # a duplicate runs no rules
    assert outcomes[6].body == {"accepted": 2, "duplicates": 1, "alerts": [alert.pk]}
    assert outcomes[7].body == {"accepted": 1, "duplicates": 0, "alerts": []}
    assert outcomes[1].headers == [(b"www-authenticate", b'Bearer realm="api"')]
    assert [outcome.user_id for outcome in outcomes] == [
        analyst_user.pk,
        None,
        norole_user.pk,
        *[analyst_user.pk] * 5,
        None,
    ]
    assert Event.objects.count() == 4


def test_a_token_verified_once_still_expires_and_its_user_can_still_be_disabled(
    analyst_user, monkeypatch
):
    token = AccessToken.for_user(analyst_user)
    token.set_exp(lifetime=timedelta(seconds=60))
    header = f"Bearer {token}"
    colleague = AccessToken.for_user(analyst_user)
    colleague.set_exp(lifetime=timedelta(minutes=5))

    first = write_group([request(event(), header), request(event(), f"Bearer {colleague}")])
    later = time.time() + 61  # the verified token is cached; its expiry is checked on use
    monkeypatch.setattr(identity.time, "time", lambda: later)
    expired = write_group([request(event(), header)])
    analyst_user.is_active = False
    analyst_user.save()
    disabled = write_group([request(event(), f"Bearer {colleague}")])

    assert [outcome.status for outcome in first] == [201, 201]
    assert (expired[0].status, expired[0].body["code"]) == (401, "token_not_valid")
    assert (disabled[0].status, disabled[0].body["code"]) == (401, "user_inactive")
    assert Event.objects.count() == 2


def test_a_request_the_database_refuses_fails_alone(analyst_user, bearer, monkeypatch):
    analyst = bearer(analyst_user)
    real_ingest = writer.ingest_events

    def refuses_poison(*, events):
        if any(e["source"] == "poison" for e in events):
            raise DataError("value out of range")
        return real_ingest(events=events)

    monkeypatch.setattr(writer, "ingest_events", refuses_poison)

    outcomes = write_group(
        [
            request(event(), analyst),
            request([event(), event(source="poison")], analyst),
            request(event(), analyst),
        ]
    )

    assert [outcome.status for outcome in outcomes] == [201, 400, 201]
    assert outcomes[1].body == {"detail": "A value is out of range.", "code": "invalid"}
    assert Event.objects.count() == 2
    assert not Event.objects.filter(source="poison").exists()


def test_an_unavailable_database_fails_the_whole_group_with_503(analyst_user, bearer, monkeypatch):
    def unavailable(*, events):
        raise OperationalError("connection refused")

    monkeypatch.setattr(writer, "ingest_events", unavailable)

    outcomes = write_group([request(event(), bearer(analyst_user)) for _ in range(2)])

    assert [outcome.status for outcome in outcomes] == [503, 503]
    assert Event.objects.count() == 0


def test_an_id_conflict_fails_only_its_own_request(analyst_user, bearer, three_failures_rule):
    analyst = bearer(analyst_user)
    stamp = "2026-03-01T10:00:00Z"
    taken = event(timestamp=stamp)
    write_group([request(taken, analyst)])
    in_group = event(timestamp=stamp)

    outcomes = write_group(
        [
            request(event(timestamp=stamp), analyst),
            request([event(timestamp=stamp), taken | {"source": "other"}], analyst),
            request(in_group, analyst),
            request([in_group | {"username": "root"}], analyst),  # conflicts with the one above
            request([taken, event(timestamp=stamp)], analyst),  # a retry: a duplicate
        ]
    )

    assert [outcome.status for outcome in outcomes] == [201, 400, 201, 400, 201]
    assert outcomes[1].body["code"] == outcomes[3].body["code"] == "id_conflict"
    assert list(outcomes[1].body["errors"]) == ["1"]
    assert list(outcomes[3].body["errors"]) == ["0"]
    assert outcomes[4].body == {"accepted": 1, "duplicates": 1, "alerts": [Alert.objects.get().pk]}
    assert Event.objects.count() == 4
    assert Alert.objects.get().event_count == 4


def test_groups_hold_at_most_a_batch_of_events_a_transaction(
    analyst_user, bearer, settings, three_failures_rule
):
    settings.EVENTS_MAX_BATCH = 4
    analyst = bearer(analyst_user)
    stamps = ["2026-03-01T10:00:00Z", "2026-03-01T10:00:01Z", "2026-03-01T10:00:02Z"]

    outcomes = write_group(
        [
            request([event(timestamp=stamps[0]), event(timestamp=stamps[1])], analyst),
            request([event(timestamp=stamps[2]), event(timestamp=stamps[2])], analyst),
            request([event(timestamp=stamps[2])], analyst),  # the next transaction
        ]
    )

    assert [outcome.status for outcome in outcomes] == [201, 201, 201]
    alert = Alert.objects.get()
    assert outcomes[0].body["alerts"] == outcomes[1].body["alerts"] == [alert.pk]
    assert outcomes[2].body["alerts"] == [alert.pk]
    assert alert.event_count == 5
    # The first transaction raised it, a later one updated it.
    assert alert.updated_at > alert.created_at


def test_requests_submitted_together_share_one_transaction(
    analyst_user, bearer, three_failures_rule
):
    analyst = bearer(analyst_user)
    bodies = [event(timestamp=f"2026-03-01T10:00:0{second}Z") for second in range(4)]

    async def post_all():
        committer = writer.committer()
        return await asyncio.gather(*(committer.submit(request(b, analyst)) for b in bodies))

    outcomes = asyncio.run(post_all())

    # All four were queued before the writer started: one transaction, so every event
    # is linked to the alert it completed and each answer lists it.
    alert = Alert.objects.get()
    assert [outcome.status for outcome in outcomes] == [201] * 4
    assert [outcome.body["alerts"] for outcome in outcomes] == [[alert.pk]] * 4
    assert alert.event_count == 4


@pytest.mark.parametrize(
    ("body", "weights"),
    [
        (b'{"event_type": "a.b"}', (1, 21, 1)),
        # Short lines (syslog text): a batch full by its lines, far under the byte limit.
        (b"line\n" * 1000, (1, 5000, 1001)),
    ],
)
def test_a_request_is_weighed_by_its_bytes_and_its_lines(body, weights):
    assert writer.weigh(Request({}, body)) == weights


@pytest.mark.requires_postgres
def test_batches_written_side_by_side_count_one_window_together(
    analyst_user, bearer, three_failures_rule, monkeypatch, settings
):
    """Real concurrent transactions of one process: the group lock orders them."""
    settings.EVENTS_SPARE_WRITERS = 1
    monkeypatch.setattr(writer, "GROUP_MAX_BYTES", 100)  # each request a full group
    threads = []
    both_writing = threading.Barrier(2)
    analyst = bearer(analyst_user)
    halves = [
        [event(timestamp=f"2026-03-01T10:00:0{second}Z") for second in range(start, 6, 2)]
        for start in (0, 1)
    ]

    async def run():
        loop, first_writing = asyncio.get_running_loop(), asyncio.Event()

        def write_and_note(requests):
            threads.append(threading.current_thread().name)
            loop.call_soon_threadsafe(first_writing.set)
            both_writing.wait(timeout=10)  # the two transactions start together
            return write_group(requests)

        monkeypatch.setattr(writer, "write_group", write_and_note)
        committer = writer.committer()
        first = asyncio.ensure_future(committer.submit(request(halves[0], analyst)))
        await first_writing.wait()
        return await asyncio.gather(first, committer.submit(request(halves[1], analyst)))

    outcomes = asyncio.run(run())

    assert len(set(threads)) == 2
    alert = Alert.objects.get()
    assert alert.event_count == 6
    assert [outcome.status for outcome in outcomes] == [201, 201]
    assert any(outcome.body["alerts"] == [alert.pk] for outcome in outcomes)
