"""GET /metrics: the Prometheus scrape, behind METRICS_TOKEN when one is set."""

import secrets

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from secalerts.core import metrics
from secalerts.core.errors import CHALLENGE


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_ENABLED:
        raise Http404
    if settings.METRICS_TOKEN and not _has_token(request, settings.METRICS_TOKEN):
        response = JsonResponse(
            {"detail": "Send Authorization: Bearer <METRICS_TOKEN>.", "code": "not_authenticated"},
            status=401,
        )
        response["WWW-Authenticate"] = CHALLENGE
        return response
    return HttpResponse(metrics.exposition(), content_type=metrics.CONTENT_TYPE_LATEST)


def _has_token(request: HttpRequest, token: str) -> bool:
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    # Constant time: the comparison must not tell how much of a guess was right.
    return scheme.lower() == "bearer" and secrets.compare_digest(
        sent.strip().encode(), token.encode()
    )
