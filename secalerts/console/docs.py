"""Swagger UI and ReDoc served from this origin only, under the site's CSP: no inline
script (Swagger's set-up script is its own request), no fonts from another host.

Their policy differs from the console's in styles alone: both widgets write `<style>`
elements at run time (ReDoc through styled-components), and ReDoc's search runs in a
worker made from a blob."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpResponse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

DOCS_CSP = settings.SECURE_CSP | {
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "worker-src": [CSP.SELF, "blob:"],
}


class SwaggerView(SpectacularSwaggerSplitView):
    template_name = "console/docs/swagger_ui.html"


class RedocView(SpectacularRedocView):
    template_name = "console/docs/redoc.html"


def swagger_view(url_name: str) -> Callable[..., HttpResponse]:
    return csp_override(DOCS_CSP)(SwaggerView.as_view(url_name=url_name))


def redoc_view(url_name: str) -> Callable[..., HttpResponse]:
    return csp_override(DOCS_CSP)(RedocView.as_view(url_name=url_name))
