"""Tuning of the server process, applied once by security_backend.asgi: the garbage
collector, and per-request work of Daphne's HTTP layer (Twisted) that this API never
needs. Measured in bench/ (figures: docs/performance.md and the README)."""

import functools
import gc

from daphne.http_protocol import HTTPFactory
from daphne.ws_protocol import WebSocketFactory
from twisted.web import http

from secalerts.core.slow_clients import GuardedWebSocketProtocol

CONTENT_TYPES_CACHED = 256
# A young generation large enough that a batch's short-lived objects die before they
# are promoted to the older generations, which are walked less often.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_server() -> None:
    """Last thing at start-up, once the application is loaded: what is loaded then is
    frozen out of garbage collection."""
    tune_daphne()
    tune_garbage_collector()


def tune_daphne() -> None:
    """Found with py-spy under many clients of single events:
    - Twisted parses the Content-Type of every POST with the standard library's email
      package, to look for form bodies. The parse maps the same bytes to the same bytes
      and clients send a handful of distinct values, so it is memoised (bounded, so a
      client sending endless distinct values only churns the cache).
    - Twisted's HTTP factory formats a combined-log line for every request and hands it
      to Twisted's log, which Daphne sends nowhere unless run with -v 2 or more.
      Daphne's own access log (`--access-log`) and ours (`secalerts.request`) are
      unaffected.
    Also: WebSockets get a protocol that closes clients that stop reading (slow_clients).
    """
    if not hasattr(http._parseContentType, "cache_info"):  # once, however often called
        http._parseContentType = functools.lru_cache(maxsize=CONTENT_TYPES_CACHED)(
            http._parseContentType
        )
    HTTPFactory.log = _no_twisted_request_log
    WebSocketFactory.protocol = GuardedWebSocketProtocol


def tune_garbage_collector() -> None:
    # The objects loaded at start-up (Django, DRF, Channels, our modules) live as long
    # as the process, yet every full collection walked them all, holding the GIL while
    # ingestion ran and stalling the pushes to every WebSocket of the process. Frozen,
    # collections skip them.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _no_twisted_request_log(self: HTTPFactory, request: http.Request) -> None:
    return None
