"""ASGI entry point: HTTP to Django (event ingestion and intake on a direct path),
WebSockets to the stream."""

import os

import django
from channels.routing import ProtocolTypeRouter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "security_backend.settings")

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

from secalerts.alerts.routing import websocket_application  # noqa: E402
from secalerts.core.server_tuning import tune_server  # noqa: E402
from secalerts.core.sync_handler import SyncChainASGIHandler  # noqa: E402
from secalerts.ingest.direct import DirectIngestApp  # noqa: E402
from secalerts.intake.direct import READERS as INTAKE_READERS  # noqa: E402

django_http = SyncChainASGIHandler()

application = ProtocolTypeRouter(
    {
        "http": DirectIngestApp(fallback=django_http, readers=INTAKE_READERS),
        "websocket": websocket_application,
    }
)

# Last: what is loaded by now is frozen out of garbage collection.
tune_server()
