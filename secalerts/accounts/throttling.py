"""Login throttles: failed logins counted per client IP and per username in the shared cache."""

import hashlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.exceptions import Throttled

from secalerts.core.errors import ServiceUnavailable

WINDOW_SECONDS = 60
CACHE_ERRORS = (RedisError, OSError)
logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The peer address, or the address our own TRUSTED_PROXY_COUNT proxies saw.

    X-Forwarded-For is only read behind a known number of proxies: otherwise a client
    could name a new address on every attempt and never be throttled.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote


def _keys(*, ip: str, username: str) -> list[str]:
    # Hash the username: cache keys must be safe whatever a client sends.
    user_hash = hashlib.sha256(username.casefold().encode()).hexdigest()
    return [f"login-failures:ip:{ip}", f"login-failures:user:{user_hash}"]


def check_login_allowed(*, ip: str, username: str) -> None:
    """Raise Throttled (429 with Retry-After) once either counter reached the limit, or
    CacheUnavailable (503) when the counters cannot be read."""
    _guarded(lambda: _check(ip=ip, username=username))


def record_login_failure(*, ip: str, username: str) -> None:
    _guarded(lambda: _record(ip=ip, username=username))


def _check(*, ip: str, username: str) -> None:
    limit = settings.LOGIN_FAILURES_PER_MINUTE
    now = time.time()
    for key in _keys(ip=ip, username=username):
        values = cache.get_many([key, f"{key}:start"])
        if values.get(key, 0) >= limit:
            started = values.get(f"{key}:start", now)
            raise Throttled(wait=max(1, math.ceil(started + WINDOW_SECONDS - now)))


def _record(*, ip: str, username: str) -> None:
    now = time.time()
    for key in _keys(ip=ip, username=username):
        cache.add(f"{key}:start", now, timeout=WINDOW_SECONDS)
        # add + incr are atomic in Redis, so workers sharing the cache share one count.
        if not cache.add(key, 1, timeout=WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS)


class CacheUnavailable(ServiceUnavailable):
    code = "throttle_state_unavailable"


def _guarded(action: Callable[[], None]) -> None:
    """Login throttles fail closed: without the shared counters nobody may guess passwords."""
    try:
        action()
    except CACHE_ERRORS as error:
        logger.warning("login refused: throttle state unavailable (%s)", type(error).__name__)
        raise CacheUnavailable("Login is temporarily unavailable; retry shortly.") from error


class FailOpenMixin:
    """A general rate limit that lets requests through when the shared cache is down,
    so the API stays up (logged); only login throttles fail closed."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as error:
            logger.warning("rate limit skipped: cache unavailable (%s)", type(error).__name__)
            return True


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass
