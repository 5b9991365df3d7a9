"""manage.py import_sigma PATH...: Sigma files, folders and zips -> rules."""

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from secalerts.sigma import services


class Command(BaseCommand):
    help = "Import Sigma rules (files, folders, zips); print counts and skip reasons."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args: Any, paths: list[Path], **options: Any) -> None:
        result = services.import_sigma(services.documents_from_paths(paths))
        self.stdout.write(
            f"created {len(result.created)}, updated {len(result.updated)}, "
            f"skipped {len(result.skipped)}"
        )
        reasons = Counter(skip["reason"] for skip in result.skipped)
        for reason, count in reasons.most_common():
            self.stdout.write(f"  {count:5d}  {reason}")
