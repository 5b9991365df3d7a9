"""WebSocket routing for the alert stream, behind the origin check and JWT auth."""

from channels.routing import URLRouter
from django.urls import path

from secalerts.accounts.websocket_auth import websocket_security
from secalerts.alerts.consumers import AlertStreamConsumer

# django-stubs type path() for views only and types-channels want their own (stub-only)
# pattern type; Channels' documented routing is Django's path() with an ASGI app.
websocket_urlpatterns = [
    path("ws/alerts/", AlertStreamConsumer.as_asgi()),  # type: ignore[arg-type]
]

websocket_application = websocket_security(
    URLRouter(websocket_urlpatterns)  # type: ignore[arg-type]
)
