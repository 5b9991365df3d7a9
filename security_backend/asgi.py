"""ASGI entry point: HTTP to Django (event ingestion on a direct path), WebSockets to the stream."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "security_backend.settings")

# Django must be set up before anything imports models.
django_http = get_asgi_application()

from secalerts.alerts.routing import websocket_application  # noqa: E402
from secalerts.events.direct_ingest import DirectIngestApp  # noqa: E402

application = ProtocolTypeRouter(
    {"http": DirectIngestApp(fallback=django_http), "websocket": websocket_application}
)
