"""Test settings: the real settings plus speed tweaks only."""

from .settings import *  # noqa: F403
from .settings import DATABASES, IS_POSTGRES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if IS_POSTGRES:
    # Connections kept by async-to-sync worker threads would block dropping the test database.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A file, not :memory:, so a live Daphne server in another thread sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
