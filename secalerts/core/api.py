"""API plumbing shared by every app: the exception handler and JSON error views."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from secalerts.core.errors import DomainError

DATABASE_UNAVAILABLE = {
    "detail": "The database is unavailable; retry later.",
    "code": "service_unavailable",
}

logger = logging.getLogger(__name__)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus domain errors, Django validation errors and oversize bodies."""
    if isinstance(exc, DomainError):
        body: dict[str, object] = {"detail": exc.message, "code": exc.code}
        if exc.detail is not None:
            body["errors"] = exc.detail
        return Response(body, status=exc.status_code)
    if isinstance(exc, OperationalError | InterfaceError):
        # Lost or refused database connection: the client should retry, not see a crash.
        logger.warning("database unavailable: %s", type(exc).__name__)
        return Response(DATABASE_UNAVAILABLE, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, DataError):
        # The database refused a value the validators let through: the client's input.
        logger.warning("database refused a value: %s", exc)
        return Response({"detail": "A value is out of range.", "code": "invalid"}, status=400)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": "Request body is too large.", "code": "payload_too_large"}, status=413
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


def _json_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


# Django-level handlers (outside DRF views): unknown URLs, bad hosts, crashes, all in JSON.
def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(400, "Bad request.", "bad_request")


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(403, "You do not have permission to perform this action.", "forbidden")


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(404, "Not found.", "not_found")


@csrf_exempt  # a CSRF failure page would be HTML; there is nothing here to protect
def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Catch-all for unknown /api/ URLs: JSON even with DEBUG on (no HTML debug page)."""
    return handler404(request)


def handler500(request: HttpRequest) -> JsonResponse:
    return _json_error(500, "Internal server error.", "server_error")
