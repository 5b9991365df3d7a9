"""WebSocket routing for the alert stream."""

from channels.routing import URLRouter

websocket_urlpatterns: list = []

# TODO(#4): origin check and JWT auth around the router.
websocket_application = URLRouter(websocket_urlpatterns)
