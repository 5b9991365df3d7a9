"""SQLite: what a live server ingests reaches the database file without waiting for the
writer's own checkpoint, which comes only after 40 MiB of WAL."""

import contextlib
import json
import shutil
import sqlite3
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(settings.IS_POSTGRES, reason="SQLite's write-ahead log only")


def test_ingested_events_are_checkpointed_in_the_background(
    start_daphne, analyst_user, bearer, tmp_path
):
    base = start_daphne()
    events = [{"event_type": "auth.failure", "source": f"s-{i}"} for i in range(200)]
    request = urllib.request.Request(
        f"{base}/api/events/",
        data=json.dumps(events).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": bearer(analyst_user)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201

    def checkpointed() -> int | None:
        """Events in the database file alone, without its WAL: what was checkpointed."""
        copy = tmp_path / "copy.sqlite3"
        shutil.copyfile(connection.settings_dict["NAME"], copy)
        try:
            with contextlib.closing(sqlite3.connect(copy)) as db:
                return db.execute("SELECT count(*) FROM events_event").fetchone()[0]
        except sqlite3.DatabaseError:  # copied halfway through a checkpoint
            return None

    wait_until(lambda: checkpointed() == 200, 5, "the 200 events checkpointed")
