"""Batches ingested at once, as several workers would: each in its own thread and
database connection, released together, so their transactions overlap."""

import json
import threading
from datetime import datetime

from django.db import connection
from django.utils import timezone

from secalerts.events.validation import validate_events
from secalerts.ingest.service import ingest_events


def validated(events: list[dict], *, now: datetime | None = None) -> list[dict]:
    """Events as the API would hand them to ingest_events."""
    body = json.dumps(events, default=str).encode()
    now = now or timezone.now()
    return validate_events(body, "application/json", max_batch=1000, max_bytes=10**7, now=now)[0]


def run_at_once(batches: list[list[dict]]) -> list[BaseException | None]:
    """Ingests every batch at once; what each raised, or None, in the batches' order."""
    barrier = threading.Barrier(len(batches))
    outcomes: list[BaseException | None] = [None] * len(batches)

    def work(at: int) -> None:
        try:
            barrier.wait(timeout=10)
            ingest_events(events=batches[at])
        except BaseException as error:  # reported to the test thread
            outcomes[at] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(at,)) for at in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
