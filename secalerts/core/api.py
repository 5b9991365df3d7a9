"""API plumbing shared by every app: the exception handler and JSON error views."""

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from secalerts.core.errors import (
    CHALLENGE,
    DomainError,
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
)

RETRY_AFTER_SECONDS = "5"
SERVER_ERROR = {"detail": "Internal server error.", "code": "server_error"}

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    status: int
    body: Any  # a JSON object; DRF's field errors may be a list
    headers: dict[str, str] = field(default_factory=dict)


def error_answer(exc: Exception) -> ErrorAnswer | None:
    """The one mapping from an error to status, JSON body and headers, for DRF views and
    for the paths served beside them (direct ingest). None: not a client's error (500)."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.detail is not None:
            body["errors"] = exc.detail
        headers = {"Retry-After": RETRY_AFTER_SECONDS} if exc.status_code == 503 else {}
        return ErrorAnswer(exc.status_code, body, headers)
    if isinstance(exc, OperationalError | InterfaceError):
        # Lost or refused database connection: the client should retry, not see a crash.
        logger.warning("database unavailable: %s", type(exc).__name__)
        return error_answer(ServiceUnavailable("The database is unavailable; retry later."))
    if isinstance(exc, DataError):
        # The database refused a value the validators let through: the client's input.
        logger.warning("database refused a value: %s", exc)
        return error_answer(InvalidInput("A value is out of range."))
    if isinstance(exc, RequestDataTooBig):
        return error_answer(PayloadTooLarge("Request body is too large."))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.APIException):
        return _api_exception_answer(exc)
    return None


def _api_exception_answer(exc: exceptions.APIException) -> ErrorAnswer:
    headers = {}
    status = exc.status_code
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # DRF's views set auth_header (or turn the 401 into a 403 without one); the
        # other paths always have the one bearer challenge.
        challenge = getattr(exc, "auth_header", CHALLENGE)
        if challenge:
            headers["WWW-Authenticate"] = challenge
        else:
            status = 403
    if isinstance(exc, exceptions.Throttled):
        # djangorestframework-stubs leave out Throttled.wait, which __init__ sets.
        wait: float | None = exc.wait  # type: ignore[attr-defined]
        if wait is not None:
            headers["Retry-After"] = str(math.ceil(wait))
    detail = exc.detail
    if isinstance(detail, list | dict):  # field errors, as DRF answers them
        return ErrorAnswer(status, detail, headers)
    return ErrorAnswer(status, {"detail": str(detail), "code": detail.code}, headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler: `error_answer`, with the transaction rolled back as DRF's does."""
    answer = error_answer(exc)
    if answer is None:
        return None
    set_rollback()
    return Response(answer.body, status=answer.status, headers=answer.headers)


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
    return JsonResponse(SERVER_ERROR, status=500)
