"""`manage.py syslog`: the syslog listener (secalerts.syslog), UDP and TCP on SYSLOG_BIND."""

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from secalerts.syslog import listener
from secalerts.syslog.senders import parse_bind, parse_networks

# `serve` does not restart a listener that exited so (SYSLOG_CANNOT_BIND_EXIT_CODE there):
# the port is taken, and would be again a second later.
CANNOT_BIND_EXIT_CODE = 3


class Command(BaseCommand):
    help = "Receive syslog (RFC 3164/5424) over UDP and TCP and ingest it in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind", default=settings.SYSLOG_BIND, help="host:port, default SYSLOG_BIND"
        )

    def handle(self, *args: Any, bind: str, **options: Any) -> None:
        try:
            host, port = parse_bind(bind)
            networks = parse_networks(settings.SYSLOG_ALLOWED_CIDRS)
        except ValueError as error:
            raise CommandError(str(error)) from error

        def ready(bound_port: int) -> None:
            self.stdout.write(f"Listening for syslog on {host}:{bound_port} (TCP and UDP)")
            self.stdout.flush()

        try:
            asyncio.run(
                listener.run(
                    host=host,
                    port=port,
                    networks=networks,
                    stats_seconds=settings.SYSLOG_STATS_SECONDS,
                    on_ready=ready,
                )
            )
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {bind}: {error}", returncode=CANNOT_BIND_EXIT_CODE
            ) from error
