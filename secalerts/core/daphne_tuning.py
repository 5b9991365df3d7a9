"""Per-request work Daphne's HTTP layer (Twisted) does that this API never needs.

Twisted parses the Content-Type of every POST with the standard library's email
package, to look for form bodies: about 0.1 ms a request, 6% of the server's CPU
under single-event ingestion. The parse maps the same bytes to the same bytes and
clients send a handful of distinct values, so it is memoised (bounded, so a client
sending endless distinct values only churns the cache).
"""

import functools

from twisted.web import http

CONTENT_TYPES_CACHED = 256


def cache_content_type_parsing() -> None:
    if not hasattr(http._parseContentType, "cache_info"):  # once, however often called
        http._parseContentType = functools.lru_cache(maxsize=CONTENT_TYPES_CACHED)(
            http._parseContentType
        )
