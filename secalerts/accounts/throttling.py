"""Login throttles: failed logins counted per client IP and per username in the shared cache."""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled

WINDOW_SECONDS = 60


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
    """Raise Throttled (429 with Retry-After) once either counter reached the limit."""
    limit = settings.LOGIN_FAILURES_PER_MINUTE
    now = time.time()
    for key in _keys(ip=ip, username=username):
        values = cache.get_many([key, f"{key}:start"])
        if values.get(key, 0) >= limit:
            started = values.get(f"{key}:start", now)
            raise Throttled(wait=max(1, math.ceil(started + WINDOW_SECONDS - now)))


def record_login_failure(*, ip: str, username: str) -> None:
    now = time.time()
    for key in _keys(ip=ip, username=username):
        cache.add(f"{key}:start", now, timeout=WINDOW_SECONDS)
        # add + incr are atomic in Redis, so workers sharing the cache share one count.
        if not cache.add(key, 1, timeout=WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=WINDOW_SECONDS)
