"""Top-level URL map: /api/* per app, schema and docs, /healthz, /livez, /readyz, /metrics,
/admin/, the console at /."""

from django.contrib import admin
from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView

from secalerts.console.docs import redoc_view, swagger_view
from secalerts.core.api import api_not_found
from secalerts.core.converters import IdConverter
from secalerts.core.health import healthz, livez, readyz
from secalerts.core.metrics_endpoint import metrics_view

register_converter(IdConverter, "id")

handler400 = "secalerts.core.api.handler400"
handler403 = "secalerts.core.api.handler403"
handler404 = "secalerts.core.api.handler404"
handler500 = "secalerts.core.api.handler500"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/", include("secalerts.accounts.urls")),
    path("api/", include("secalerts.ingest.urls")),
    path("api/", include("secalerts.sigma.urls")),
    path("api/", include("secalerts.rules.urls")),
    path("api/", include("secalerts.alerts.urls")),
    path("api/", include("secalerts.tuning.urls")),
    path("api/", include("secalerts.intake.urls")),
    path("api/", include("secalerts.notifications.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/(?P<rest>[\s\S]*)$", api_not_found),
    path("swagger/", swagger_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", redoc_view(url_name="schema"), name="redoc"),
    path("", include("secalerts.console.urls")),
]
