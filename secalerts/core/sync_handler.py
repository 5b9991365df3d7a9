"""Django's ASGI handler with the middleware chain run synchronously, in one thread hop.

In an async stack every built-in middleware runs `process_request` and
`process_response` through `sync_to_async`: about 15 thread hops per request. Every
view and middleware here is synchronous anyway, so the whole chain runs in one hop,
as under WSGI.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        # A pooled thread, not Django's new thread per request: the thread keeps its
        # database connection between requests (CONN_MAX_AGE) instead of opening one
        # per request, which costs more than the rest of a small request on PostgreSQL.
        return await sync_to_async(self._respond, thread_sensitive=False)(request)

    def _respond(self, request: HttpRequest) -> HttpResponseBase:
        # What the request_started signal does, in the thread that uses the connection.
        close_old_connections()
        try:
            return self.get_response(request)
        finally:
            # And what request_finished does: Django sends it from another thread, so
            # CONN_MAX_AGE=0 would otherwise leave this thread's connection open.
            close_old_connections()
