"""Fixtures shared by every test: actors, real JWTs, database selection, a live Daphne."""

import contextlib
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from secalerts.accounts.roles import Role
from secalerts.accounts.services import create_user_with_role

PASSWORD = "correct-horse-battery-staple"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    skip_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://...")
    for item in items:
        if "requires_postgres" in item.keywords and not settings.IS_POSTGRES:
            item.add_marker(skip_pg)
        if "requires_redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    # Throttle counters live in the cache (Redis in CI): no test may inherit another's.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., AbstractUser]:
    def make(username: str, role: Role | None = None) -> AbstractUser:
        if role is None:
            from django.contrib.auth import get_user_model

            return get_user_model().objects.create_user(username=username, password=PASSWORD)
        return create_user_with_role(username=username, password=PASSWORD, role=role)

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    return make_user("alice-admin", Role.ADMIN)


@pytest.fixture
def analyst_user(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    return make_user("bob-analyst", Role.ANALYST)


@pytest.fixture
def norole_user(make_user: Callable[..., AbstractUser]) -> AbstractUser:
    return make_user("carol-norole")


@pytest.fixture
def bearer() -> Callable[[AbstractUser], str]:
    """`Authorization` header value with a real SimpleJWT access token for the user."""

    def header(user: AbstractUser) -> str:
        return f"Bearer {AccessToken.for_user(user)}"

    return header


@pytest.fixture
def hang_guard() -> Callable[[float], AbstractContextManager[None]]:
    """`with hang_guard(60):` fails the test if the block is still running after that long.

    A hang guard, not a timing assertion. An alarm signal rather than a watchdog thread:
    a backtracking `re` search holds the GIL, so a thread's join(timeout) never returns,
    while the search does check for signals in the main thread.
    """

    @contextlib.contextmanager
    def guard(seconds: float) -> Iterator[None]:
        def hung(signum: int, frame: object) -> None:
            pytest.fail(f"still running after {seconds} s: this would stall a worker")

        previous = signal.signal(signal.SIGALRM, hung)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return guard


@pytest.fixture
def dataset_dir() -> Path:
    path = settings.BASE_DIR.parent / "shared" / "datasets"
    if not path.is_dir():
        pytest.skip(f"datasets folder {path} is absent (it sits beside the checkout)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _drop_stray_connections(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Worker threads of async tests may still hold PostgreSQL connections at the end;
    they would stop pytest-django from dropping the test database."""
    yield
    if not settings.IS_POSTGRES:
        return
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
