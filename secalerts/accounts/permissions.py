"""Role permissions for DRF views (kept apart from api.py: DRF imports these at startup)."""

from typing import TYPE_CHECKING

from rest_framework import permissions
from rest_framework.request import Request

from secalerts.accounts.authentication import identity_of
from secalerts.accounts.roles import Role, has_role, may_ingest

if TYPE_CHECKING:
    from rest_framework.views import APIView


class IsPerson(permissions.BasePermission):
    """Any signed-in user, role or not; not an API key."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        who = identity_of(request)
        return bool(request.user.is_authenticated) and who is not None and who.kind == "user"


class HasAnyRole(permissions.BasePermission):
    """Admin or Analyst: may read everything and ingest events."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return has_role(request.user, Role.ADMIN, Role.ANALYST)


class IsAdminRole(permissions.BasePermission):
    """Admin only: triage changes and rule management."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return has_role(request.user, Role.ADMIN)


class ReadAnyRoleWriteAdmin(permissions.BasePermission):
    """Both roles read; only Admin writes."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.method in permissions.SAFE_METHODS:
            return has_role(request.user, Role.ADMIN, Role.ANALYST)
        return has_role(request.user, Role.ADMIN)


class ReadAnyRoleIngestWithKey(permissions.BasePermission):
    """Both roles read; both roles and API keys with the `ingest` scope send events."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request.method in permissions.SAFE_METHODS:
            return has_role(request.user, Role.ADMIN, Role.ANALYST)
        return may_ingest(identity_of(request))


class CanIngest(permissions.BasePermission):
    """Both roles, and API keys with the `ingest` scope: the intake endpoints."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        return may_ingest(identity_of(request))
