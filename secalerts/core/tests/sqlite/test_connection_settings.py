import pytest
from django.conf import settings
from django.db import connection


@pytest.mark.skipif(settings.IS_POSTGRES, reason="SQLite's connection settings")
@pytest.mark.django_db
def test_sqlite_connections_use_wal_and_a_page_cache_the_indexes_fit():
    with connection.cursor() as cursor:
        pragmas = {
            name: cursor.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "wal_autocheckpoint", "cache_size")
        }

    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "wal_autocheckpoint": 10_000,
        "cache_size": -32_768,  # KiB
    }
