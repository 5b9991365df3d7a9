"""The Django admin's login, throttled by the API's failed-login counters (one set for both)."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import Throttled

from secalerts.accounts.throttling import CacheUnavailable, client_ip, login_attempt


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """Checks the password inside the same login_attempt as POST /api/token/."""

    refusal_status: int | None = None  # 429 or 503 when the throttle refused the attempt
    retry_after_seconds: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # no password to check: the field errors say what is missing
        if self.request is None:  # the admin's login view always binds its request
            raise TypeError("ThrottledAdminAuthenticationForm needs the request")
        try:
            with login_attempt(
                ip=client_ip(self.request), username=username, failure=ValidationError
            ):
                return super().clean()
        except Throttled as refusal:
            # djangorestframework-stubs leave out Throttled.wait, which __init__ sets.
            wait: int | None = refusal.wait  # type: ignore[attr-defined]
            self.refusal_status, self.retry_after_seconds = 429, wait
            raise ValidationError(str(refusal.detail), code="throttled") from refusal
        except CacheUnavailable as error:
            self.refusal_status = 503
            raise ValidationError(error.message, code="unavailable") from error


class AdminSite(admin.AdminSite):
    """The default admin site (see accounts.apps.AdminConfig) with the throttled login."""

    login_form = ThrottledAdminAuthenticationForm

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if isinstance(form, ThrottledAdminAuthenticationForm) and form.refusal_status is not None:
            # The same page with the error, and the status a client or proxy can act on.
            response.status_code = form.refusal_status
            if form.retry_after_seconds is not None:
                response["Retry-After"] = str(form.retry_after_seconds)
        return response
