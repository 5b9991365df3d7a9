"""WebSocket routing for the alert stream, behind the origin check and JWT auth."""

from channels.routing import URLRouter
from django.urls import path

from secalerts.accounts.websocket_auth import websocket_security
from secalerts.alerts.consumers import AlertStreamConsumer

websocket_urlpatterns = [path("ws/alerts/", AlertStreamConsumer.as_asgi())]

websocket_application = websocket_security(URLRouter(websocket_urlpatterns))
