"""Login throttles: failed logins counted per client IP and per username in the shared cache.

One set of counters for every login (the API's token view and the Django admin), and at
most LOGIN_FAILURES_PER_MINUTE passwords checked per IP and per username in a window,
however many attempts race: each attempt takes its slot before its password is checked.
"""

import contextlib
import hashlib
import logging
import math
import time
import unicodedata
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.exceptions import Throttled

from secalerts.core.errors import ServiceUnavailable

if TYPE_CHECKING:  # rest_framework.views reads the throttle classes while it loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

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
    # Hash the username: cache keys must be safe whatever a client sends. NFKC as Django's
    # login form applies it, so the API and the admin count one username once.
    folded = unicodedata.normalize("NFKC", username).casefold()
    user_hash = hashlib.sha256(folded.encode(errors="surrogatepass")).hexdigest()
    return [f"login-failures:ip:{ip}", f"login-failures:user:{user_hash}"]


@contextlib.contextmanager
def login_attempt(
    *, ip: str, username: str, failure: type[Exception] | tuple[type[Exception], ...]
) -> Iterator[None]:
    """Guard a block that checks a password: the API's token view and the admin's login.

    The attempt takes a slot in both counters (per IP, per username) before the block
    runs, so racing attempts cannot all pass one check; a block that raises `failure`
    keeps it (a failed login), any other outcome gives it back. Raises Throttled (429
    with Retry-After) when either counter is full, or CacheUnavailable (503) when the
    counters cannot be reached.
    """
    keys = _keys(ip=ip, username=username)
    _guarded(lambda: _reserve(keys))
    failed = False
    try:
        yield
    except failure:
        failed = True
        raise
    finally:
        if not failed:
            _give_back(keys)


def _reserve(keys: list[str]) -> None:
    limit = settings.LOGIN_FAILURES_PER_MINUTE
    now = time.time()
    taken: list[str] = []
    for key in keys:
        cache.add(f"{key}:start", now, timeout=WINDOW_SECONDS)
        count = _increment(key)
        taken.append(key)
        if count > limit:
            # Refused before any password is checked: that is no failure to count.
            _give_back(taken)
            started = cache.get(f"{key}:start", now)
            raise Throttled(wait=max(1, math.ceil(started + WINDOW_SECONDS - now)))


def _increment(key: str) -> int:
    """The counter's new value. add and incr are each atomic (Redis, locmem), so every
    attempt in any worker gets its own number: only `limit` of them can see <= limit."""
    while True:
        if cache.add(key, 1, timeout=WINDOW_SECONDS):
            return 1
        try:
            count: int = cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            continue
        if count == 1:
            # Redis: if the key expired between incr's existence check and INCR, INCR made
            # a new one without a timeout, which would never let the counter expire.
            cache.touch(key, WINDOW_SECONDS)
        return count


def _give_back(keys: list[str]) -> None:
    """Best effort: a slot not given back only over-counts, which errs on the safe side."""
    for key in keys:
        try:
            if cache.decr(key) < 0:
                cache.delete(key)  # Redis made it anew from an expired key: no window
        except ValueError:  # expired: nothing left to give back
            pass
        except CACHE_ERRORS as error:
            logger.warning("login slot not given back (%s)", type(error).__name__)


class CacheUnavailable(ServiceUnavailable):
    code = "throttle_state_unavailable"


def _guarded(action: Callable[[], None]) -> None:
    """Login throttles fail closed: without the shared counters nobody may guess passwords."""
    try:
        action()
    except CACHE_ERRORS as error:
        logger.warning("login refused: throttle state unavailable (%s)", type(error).__name__)
        raise CacheUnavailable("Login is temporarily unavailable; retry shortly.") from error


class FailOpenMixin(throttling.BaseThrottle):
    """A general rate limit that lets requests through when the shared cache is down,
    so the API stays up (logged); only login throttles fail closed."""

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as error:
            logger.warning("rate limit skipped: cache unavailable (%s)", type(error).__name__)
            return True


class UserRateThrottle(FailOpenMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(FailOpenMixin, throttling.AnonRateThrottle):
    pass
