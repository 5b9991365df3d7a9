"""Every path agrees with detection.schema: the model, storage, both validators, both
event shapes, conflict checks, rule fields, the parsers' time range and the severity
scale. Cases are made from the schema, so a field added there is checked here too."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from django.db import models
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from secalerts import detection, logparsers
from secalerts.core.errors import IdConflict
from secalerts.detection.schema import (
    EARLIEST_TIMESTAMP,
    EVENT_SCHEMA,
    LATEST_TIMESTAMP,
    SENT_FIELDS,
    SEVERITIES,
    SEVERITY_RANK,
    EventField,
    Kind,
)
from secalerts.events import storage, validation
from secalerts.events.conflicts import check_duplicates
from secalerts.events.models import Event, Severity
from secalerts.events.serializers import EventInputSerializer, EventSerializer
from secalerts.events.validation import InvalidEvents, validate_dict, validate_events
from secalerts.ingest.service import ingest_events
from secalerts.logparsers import events as parser_events
from secalerts.rules.models import SEVERITY_CHOICES
from secalerts.syslog import batcher

NAMES = [field.name for field in EVENT_SCHEMA]
SENT = [field for field in EVENT_SCHEMA if field.sent]

MODEL_FIELD_CLASSES = {
    Kind.UUID: (models.UUIDField,),
    Kind.TIME: (models.DateTimeField,),
    Kind.EVENT_TYPE: (models.CharField,),
    Kind.SEVERITY: (models.CharField,),
    Kind.TEXT: (models.CharField, models.TextField),
    Kind.IP: (models.GenericIPAddressField,),
    Kind.INTEGER: (models.IntegerField,),
    Kind.JSON: (models.JSONField,),
    Kind.SENDER: (models.JSONField,),
}


def value_of(field: EventField, *, other: bool = False) -> Any:
    """A valid value a client may send for the field; `other`: a second, different one."""
    match field.kind:
        case Kind.UUID:
            return str(uuid.UUID(int=2 if other else 1))
        case Kind.TIME:
            return "2026-01-02T03:04:06Z" if other else "2026-01-02T03:04:05Z"
        case Kind.EVENT_TYPE:
            return "auth.success" if other else "auth.failure"
        case Kind.SEVERITY:
            return SEVERITIES[-1] if other else SEVERITIES[1]
        case Kind.TEXT:
            return "y" if other else "x"
        case Kind.IP:
            return "2001:db8::2" if other else "192.0.2.1"
        case Kind.INTEGER:
            return field.max_value if other else field.min_value
        case Kind.JSON:
            return {"k": [2]} if other else {"k": [1]}
    raise AssertionError(f"no sample value for {field.kind}")


def full_event(**changes: Any) -> dict[str, Any]:
    """Every sent field given a value."""
    return {field.name: value_of(field) for field in SENT} | {"id": str(uuid.uuid4())} | changes


def validated(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    events, _ = validate_events(
        json.dumps(items).encode(), "application/json",
        max_batch=1000, max_bytes=10**7, now=timezone.now(),
    )  # fmt: skip
    return events


def both_accept(item: dict[str, Any]) -> tuple[bool, bool]:
    try:
        validated([item])
        fast = True
    except InvalidEvents:
        fast = False
    return fast, EventInputSerializer(data=item).is_valid()


# The model, the storage rows and the two shapes


def test_the_model_has_the_schemas_fields_in_its_order():
    assert [field.name for field in Event._meta.concrete_fields] == NAMES


@pytest.mark.parametrize("field", EVENT_SCHEMA, ids=NAMES)
def test_each_model_field_stores_what_the_schema_allows(field):
    model_field = Event._meta.get_field(field.name)

    assert isinstance(model_field, models.Field)
    assert isinstance(model_field, MODEL_FIELD_CLASSES[field.kind])
    # Null in the database means "not sent": only where validation sets no default.
    defaulted = field.name in {"id", "timestamp", "received_at", "severity"}
    assert model_field.null is not (field.required or defaulted or field.kind is Kind.JSON)
    if field.kind in {Kind.EVENT_TYPE, Kind.TEXT} and model_field.max_length is not None:
        assert model_field.max_length == field.max_length
    if field.kind is Kind.SEVERITY:
        assert model_field.choices == Severity.choices


def test_storage_writes_every_column_of_the_model_by_name():
    assert tuple(field.column for field in Event._meta.concrete_fields) == storage.COLUMNS


def test_the_stored_event_shape_is_the_schema():
    assert tuple(EventSerializer().fields) == tuple(NAMES)


def test_the_input_contract_and_the_fast_validator_take_the_sent_fields():
    assert tuple(EventInputSerializer().fields) == SENT_FIELDS
    assert validation.EventIn.__struct_fields__ == SENT_FIELDS


def test_rules_may_name_every_sent_field():
    assert frozenset(SENT_FIELDS) == detection.EVENT_FIELDS
    for name in SENT_FIELDS:
        detection.compile_rule({"field": name, "op": "exists", "value": True}, rule_id=1)


# Values: the ingest answer, what is stored, and a retry of it


@pytest.mark.django_db
def test_the_ingest_answer_is_the_stored_event(api_client, analyst_user, bearer):
    sent = full_event()

    response = api_client.post(
        reverse("events:list"), json.dumps(sent), content_type="application/json",
        HTTP_AUTHORIZATION=bearer(analyst_user),
    )  # fmt: skip
    stored = api_client.get(
        reverse("events:detail", args=[sent["id"]]), HTTP_AUTHORIZATION=bearer(analyst_user)
    )

    assert response.status_code == 201, response.json()
    assert stored.status_code == 200
    answer = response.json()
    assert answer.pop("alerts") == []
    assert answer == stored.json()
    assert list(answer) == NAMES
    assert {name: answer[name] for name in SENT_FIELDS} == sent


@pytest.mark.django_db
def test_an_event_sent_again_is_a_duplicate_whatever_its_fields_hold():
    sent = full_event()
    ingest_events(events=validated([sent]))

    check_duplicates(validated([sent]), kept=[])


@pytest.mark.django_db
@pytest.mark.parametrize("field", [f for f in SENT if f.name != "id"], ids=lambda f: f.name)
def test_an_id_sent_again_with_any_field_changed_is_a_conflict(field):
    sent = full_event()
    ingest_events(events=validated([sent]))

    with pytest.raises(IdConflict):
        check_duplicates(validated([sent | {field.name: value_of(field, other=True)}]), kept=[])


# What the validators accept


def limit_cases(field: EventField) -> list[tuple[Any, bool]]:
    """(value, valid) at the field's limits."""
    cases: list[tuple[Any, bool]] = [(value_of(field), True), (None, not field.required)]
    if field.max_length is not None:
        cases += [("a" * field.max_length, True), ("a" * (field.max_length + 1), False)]
    if field.min_value is not None:
        cases += [(field.min_value, True), (field.min_value - 1, False)]
    if field.max_value is not None:
        cases += [(field.max_value, True), (field.max_value + 1, False)]
    if field.kind is Kind.TEXT:
        cases.append(("a\x00b", False))
    # Each takes its own JSON type only.
    cases.append(("1", False) if field.kind is Kind.INTEGER else (1, False))
    if field.kind is Kind.JSON and field.max_bytes is not None:
        cases += [([1], False), ({"k": "a" * field.max_bytes}, False)]
    if field.kind is Kind.SEVERITY:
        cases += [(level, True) for level in SEVERITIES] + [("urgent", False)]
    return cases


LIMIT_CASES = [
    (field.name, value, valid)
    for field in SENT
    if field.name != "source"  # required, but may come from the API key (test_ingest)
    for value, valid in limit_cases(field)
]


@pytest.mark.parametrize(("name", "value", "valid"), LIMIT_CASES)
def test_both_validators_hold_each_field_to_the_schemas_limits(name, value, valid):
    item = full_event() | {name: value}

    assert both_accept(item) == (valid, valid)


def test_both_validators_refuse_a_field_the_schema_does_not_have():
    assert both_accept(full_event(hostname="x")) == (False, False)


def test_the_server_fills_in_what_a_client_may_not_send():
    for field in EVENT_SCHEMA:
        if not field.sent:
            assert both_accept(full_event() | {field.name: None}) == (False, False)


# One severity scale, one time range


def test_one_severity_scale_everywhere():
    event_in = msgspec.inspect.type_info(validation.EventIn)
    assert isinstance(event_in, msgspec.inspect.StructType)
    optional = next(f for f in event_in.fields if f.name == "severity").type
    assert isinstance(optional, msgspec.inspect.UnionType)
    severity = optional.types[0]
    assert isinstance(severity, msgspec.inspect.LiteralType)

    assert tuple(SEVERITY_RANK) == SEVERITIES
    assert tuple(Severity.values) == SEVERITIES
    assert detection.SEVERITIES == SEVERITIES
    assert logparsers.SEVERITIES == SEVERITIES
    assert tuple(value for value, _ in SEVERITY_CHOICES if value != "inherit") == SEVERITIES
    assert set(severity.values) == set(SEVERITIES)
    severity_field = EventInputSerializer().fields["severity"]
    assert isinstance(severity_field, serializers.ChoiceField)
    assert tuple(severity_field.choices) == SEVERITIES
    assert detection.max_severity(reversed(SEVERITIES)) == SEVERITIES[-1]


MOMENTS = [
    EARLIEST_TIMESTAMP - timedelta(microseconds=1),
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    LATEST_TIMESTAMP + timedelta(microseconds=1),
    datetime(2026, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_the_parsers_keep_the_times_that_validation_accepts(moment):
    try:
        validate_dict({"event_type": "a", "source": "s", "timestamp": moment}, now=moment)
        accepted = True
    except InvalidEvents:
        accepted = False

    assert (parser_events.in_range(moment) is not None) == accepted
    assert (parser_events.EARLIEST, parser_events.LATEST) == (EARLIEST_TIMESTAMP, LATEST_TIMESTAMP)


def test_the_parsers_cut_text_to_the_schemas_lengths():
    # logparsers import nothing of ours, so they keep copies of these limits.
    length = {field.name: field.max_length for field in EVENT_SCHEMA}

    assert length["source"] == parser_events.MAX_SOURCE
    assert length["username"] == parser_events.MAX_USERNAME
    assert length["message"] == parser_events.MAX_MESSAGE
    assert length["message"] == batcher.MAX_MESSAGE
