"""App config for events."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class EventsConfig(AppConfig):
    name = "secalerts.events"
    label = "events"

    def ready(self) -> None:
        from secalerts.events.models import Event

        post_save.connect(_claim_id, sender=Event, dispatch_uid="events.claim_id")


def _claim_id(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    """An event saved through the ORM (factories, shells; ingestion writes in bulk through
    events.storage) gets its id row too on PostgreSQL (events.partitions)."""
    from secalerts.events import partitions
    from secalerts.events.models import EventId

    if created and partitions.is_partitioned():
        EventId.objects.get_or_create(id=instance.pk, defaults={"timestamp": instance.timestamp})
