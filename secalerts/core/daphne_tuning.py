"""Per-request work Daphne's HTTP layer (Twisted) does that this API never needs.

Found with py-spy under 16 clients sending single events:
- Twisted parses the Content-Type of every POST with the standard library's email
  package, to look for form bodies: a visible share of the server's CPU.
  The parse maps the same bytes to the same bytes and clients send a handful of
  distinct values, so it is memoised (bounded, so a client sending endless distinct
  values only churns the cache).
- Twisted's HTTP factory formats a combined-log line for every request and
  hands it to Twisted's log, which Daphne sends nowhere unless run with -v 2 or
  more. Daphne's own access log (`--access-log`) and ours (`secalerts.request`) are
  unaffected.
Also: WebSockets get a protocol that closes clients that stop reading (slow_clients).
"""

import functools

from daphne.http_protocol import HTTPFactory
from daphne.ws_protocol import WebSocketFactory
from twisted.web import http

from secalerts.core.slow_clients import GuardedWebSocketProtocol

CONTENT_TYPES_CACHED = 256


def tune_daphne() -> None:
    if not hasattr(http._parseContentType, "cache_info"):  # once, however often called
        http._parseContentType = functools.lru_cache(maxsize=CONTENT_TYPES_CACHED)(
            http._parseContentType
        )
    HTTPFactory.log = _no_twisted_request_log
    WebSocketFactory.protocol = GuardedWebSocketProtocol


def _no_twisted_request_log(self: HTTPFactory, request: http.Request) -> None:
    return None
