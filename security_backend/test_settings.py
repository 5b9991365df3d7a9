"""Test settings: the real settings plus speed tweaks only."""

import os

from .settings import *  # noqa: F403
from .settings import CHANNEL_LAYERS, DATABASES, IS_POSTGRES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if IS_POSTGRES:
    # Connections kept by async-to-sync worker threads would block dropping the test database.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # A file, not :memory:, so a live Daphne server in another thread sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

if "prefix" in CHANNEL_LAYERS["default"].get("CONFIG", {}):
    # Redis pub/sub channels ignore the database number: test runs side by side on one
    # Redis would hear each other's pushes. A prefix per run, which the servers the tests
    # start inherit through the environment.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = os.environ.setdefault(
        "SECALERTS_TEST_CHANNEL_PREFIX", f"secalerts-test-{os.getpid()}"
    )
