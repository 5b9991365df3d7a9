"""`manage.py prune`: apply the retention settings now (the scheduler does it daily).

`--dry-run` prints what would be removed and removes nothing.
"""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from secalerts.jobs import retention


class Command(BaseCommand):
    help = "Delete events and closed alerts older than their retention (docs/operations.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=retention.CHUNK_SIZE,
            help="Rows deleted per transaction (default %(default)s).",
        )

    def handle(self, *args: Any, dry_run: bool, chunk_size: int, **options: Any) -> None:
        result = retention.prune(
            now=timezone.now(),
            events_days=settings.EVENTS_RETENTION_DAYS,
            closed_alerts_days=settings.CLOSED_ALERTS_RETENTION_DAYS,
            chunk_size=max(1, chunk_size),
            dry_run=dry_run,
        )
        self.stdout.write(json.dumps({"dry_run": dry_run, **result}, indent=2))
