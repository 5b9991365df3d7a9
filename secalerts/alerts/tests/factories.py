"""Factories for alerts and the rows around them."""

import uuid
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.db.models import Model
from django.utils import timezone

from secalerts.alerts.models import Alert, AlertStatus
from secalerts.events.models import SEVERITY_RANK, Event
from secalerts.rules.models import Rule

M = TypeVar("M", bound=Model)


class ModelFactory(factory.django.DjangoModelFactory[M]):
    """`XFactory(...)` is typed as the row it saves, as `XFactory.create(...)` is."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:
        # factory_boy's __new__ returns `create(**kwargs)`: the model, not the factory,
        # which a __new__ annotation is the only way to say.
        def __new__(cls, *args: Any, **kwargs: Any) -> M:  # type: ignore[misc]
            ...


class RuleFactory(ModelFactory[Rule]):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"rule {n}")
    severity = "high"
    condition = factory.LazyFunction(lambda: {"field": "event_type", "op": "eq", "value": "x.y"})
    group_by = factory.LazyFunction(lambda: ["source_ip"])


class EventFactory(ModelFactory[Event]):
    class Meta:
        model = Event

    id = factory.LazyFunction(uuid.uuid4)
    timestamp = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    event_type = "x.y"
    source = "sensor"


class AlertFactory(ModelFactory[Alert]):
    class Meta:
        model = Alert

    title = factory.Sequence(lambda n: f"Brute-force login: 203.0.113.{n % 250}")
    severity = "high"
    severity_rank = factory.LazyAttribute(lambda a: SEVERITY_RANK[a.severity])
    status = AlertStatus.OPEN
    rule = factory.SubFactory(RuleFactory)
    group = factory.LazyAttribute(lambda a: {"source_ip": a.source_ip})
    group_key = factory.Sequence(lambda n: f"{n:064x}")
    source_ip = "203.0.113.9"
    event_count = 1
    first_seen = factory.LazyFunction(timezone.now)
    last_seen = factory.LazyFunction(timezone.now)
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyFunction(timezone.now)
