"""ASGI entry point: HTTP to Django (event ingestion on a direct path), WebSockets to the stream."""

import os

import django
from channels.routing import ProtocolTypeRouter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "security_backend.settings")

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

from secalerts.alerts.routing import websocket_application  # noqa: E402
from secalerts.core.sync_handler import SyncChainASGIHandler  # noqa: E402
from secalerts.events.direct_ingest import DirectIngestApp  # noqa: E402

django_http = SyncChainASGIHandler()

application = ProtocolTypeRouter(
    {"http": DirectIngestApp(fallback=django_http), "websocket": websocket_application}
)
