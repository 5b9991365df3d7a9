"""Threshold state as one row per group and ingest (ThresholdHitPack) instead of one per hit.

Existing hits are carried over, packed per group, so windows open across the upgrade
still complete.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta
from itertools import batched, groupby

import django.db.models.deletion
from django.db import migrations, models

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PACK_SIZE = 1000


def _micros(moment):
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _value(text):
    return None if text is None else json.loads(text)


def pack_hits(apps, schema_editor):
    ThresholdHit = apps.get_model("rules", "ThresholdHit")
    ThresholdHitPack = apps.get_model("rules", "ThresholdHitPack")
    hits = ThresholdHit.objects.order_by("key", "timestamp").iterator(chunk_size=5000)

    def packs():
        for (rule_id, key), group in groupby(hits, key=lambda hit: (hit.rule_id, hit.key)):
            for chunk in batched(group, PACK_SIZE):
                packed = [
                    [_micros(hit.timestamp), hit.event_id.hex, _value(hit.value)] for hit in chunk
                ]
                yield ThresholdHitPack(
                    rule_id=rule_id,
                    key=key,
                    first_timestamp=chunk[0].timestamp,
                    last_timestamp=chunk[-1].timestamp,
                    hits=json.dumps(packed, separators=(",", ":")),
                    created_at=max(hit.created_at for hit in chunk),
                )

    # Written as they are made: two days of hits may not fit in memory at once.
    for chunk in batched(packs(), 100):
        ThresholdHitPack.objects.bulk_create(chunk)


def unpack_hits(apps, schema_editor):
    ThresholdHit = apps.get_model("rules", "ThresholdHit")
    ThresholdHitPack = apps.get_model("rules", "ThresholdHitPack")
    hits = (
        ThresholdHit(
            rule_id=pack.rule_id,
            key=pack.key,
            timestamp=EPOCH + timedelta(microseconds=us),
            event_id=uuid.UUID(hex=event_id),
            value=None if value is None else json.dumps(value),
            created_at=pack.created_at,
        )
        for pack in ThresholdHitPack.objects.iterator(chunk_size=100)
        for us, event_id, value in json.loads(pack.hits)
    )
    for chunk in batched(hits, 5000):
        ThresholdHit.objects.bulk_create(chunk, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("rules", "0003_lean_threshold_hits"),
    ]

    operations = [
        migrations.CreateModel(
            name="ThresholdHitPack",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "key",
                    models.CharField(help_text="Hash of rule id and group values.", max_length=64),
                ),
                (
                    "first_timestamp",
                    models.DateTimeField(help_text="Event time of the pack's earliest hit."),
                ),
                (
                    "last_timestamp",
                    models.DateTimeField(help_text="Event time of the pack's latest hit."),
                ),
                ("hits", models.TextField()),
                ("created_at", models.DateTimeField()),
                (
                    "rule",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="rules.rule",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["key", "last_timestamp"], name="hitpack_key_time"),
                    models.Index(fields=["created_at"], name="hitpack_created"),
                ],
            },
        ),
        migrations.RunPython(pack_hits, unpack_hits),
        migrations.DeleteModel(name="ThresholdHit"),
    ]
