"""Enabled channels, cached per process and refreshed when the version stamp moves
(as rules.registry does): the outbox reads them inside every alert change, so an
ingest with no channels costs one one-row query."""

import threading
import uuid
from dataclasses import dataclass

from django.db import connection

from secalerts.events.models import SEVERITY_RANK
from secalerts.notifications.models import Channel, ChannelSetVersion


@dataclass(frozen=True, slots=True)
class ActiveChannel:
    id: int
    severity_rank_min: int
    rules: frozenset[int]  # empty: every rule
    on: frozenset[str]

    def wants(self, kind: str, severity: str, rule_id: int | None) -> bool:
        return (
            kind in self.on
            and SEVERITY_RANK.get(severity, 0) >= self.severity_rank_min
            and (not self.rules or rule_id in self.rules)
        )


_lock = threading.Lock()
_cached: tuple[str, tuple[ActiveChannel, ...]] = ("", ())


def current_version() -> str:
    table = connection.ops.quote_name(ChannelSetVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT stamp FROM {table} WHERE id = 1")  # noqa: S608 - our name
        row = cursor.fetchone()
    return row[0] if row is not None else "none"


def active_channels() -> tuple[ActiveChannel, ...]:
    global _cached
    version = current_version()
    if _cached[0] == version:
        return _cached[1]
    with _lock:
        channels = tuple(
            ActiveChannel(
                id=channel.pk,
                severity_rank_min=SEVERITY_RANK.get(channel.severity_min, 0),
                rules=frozenset(channel.rules),
                on=frozenset(channel.on),
            )
            for channel in Channel.objects.filter(enabled=True).order_by("pk")
        )
        _cached = (version, channels)
        return channels


def bump_version() -> None:
    """Call inside the transaction that changes channels."""
    ChannelSetVersion.objects.update_or_create(pk=1, defaults={"stamp": uuid.uuid4().hex})
