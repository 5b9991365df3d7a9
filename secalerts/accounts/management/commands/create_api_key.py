"""manage.py create_api_key NAME [--source S] [--expires-days N]: prints a key once."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from secalerts.accounts.api_keys import create_key
from secalerts.core.errors import DomainError


class Command(BaseCommand):
    help = "Create an API key with the ingest scope and print it (it is not shown again)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--source", default="", help="Default `source` of its events.")
        parser.add_argument("--expires-days", type=int, help="Expire after this many days.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["expires_days"]
        expires_at = timezone.now() + timedelta(days=days) if days is not None else None
        try:
            _, text = create_key(
                name=options["name"],
                scopes=["ingest"],
                created_by=None,
                source=options["source"],
                expires_at=expires_at,
            )
        except DomainError as error:
            raise CommandError(f"{error.message} {error.detail}") from error
        self.stdout.write(text)
