"""Channel changes and test sends: each in one transaction that moves the channels'
version stamp, so every process's outbox sees the change on its next alert."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from secalerts.notifications import channel_set
from secalerts.notifications.models import TEST_TYPE, Channel, Delivery, DeliveryStatus
from secalerts.notifications.sending import attempt, record_outcomes


@transaction.atomic
def create_channel(**fields: Any) -> Channel:
    channel = Channel.objects.create(**fields)
    channel_set.bump_version()
    return channel


@transaction.atomic
def update_channel(*, channel: Channel, **fields: Any) -> Channel:
    for name, value in fields.items():
        setattr(channel, name, value)
    channel.save()
    channel_set.bump_version()
    return channel


@transaction.atomic
def delete_channel(*, channel: Channel) -> None:
    channel.delete()
    channel_set.bump_version()


def send_test(*, channel: Channel) -> Delivery:
    """Send a test message now and log it as a delivery; a failed one is not retried
    (the Admin is watching the answer)."""
    delivery = Delivery.objects.create(
        channel=channel, type=TEST_TYPE, status=DeliveryStatus.PENDING, created_at=timezone.now()
    )
    record_outcomes([delivery], [attempt(delivery, None)])
    return delivery
