"""The one place that answers "what may this caller do": roles from Django groups, and
the scopes of API keys."""

from collections.abc import Collection
from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin

if TYPE_CHECKING:
    from secalerts.accounts.identity import Identity


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"


GROUP_NAMES: dict[Role, str] = {Role.ADMIN: "Admin", Role.ANALYST: "Analyst"}
_ROLE_BY_GROUP = {name: role for role, name in GROUP_NAMES.items()}

# Cached on the user object, so one request asks the database at most once.
_CACHE_ATTR = "_secalerts_roles"


def roles_of(user: AbstractBaseUser | AnonymousUser | None) -> frozenset[Role]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if not isinstance(user, PermissionsMixin):  # a user model without groups holds no role
        return frozenset()
    names = user.groups.values_list("name", flat=True)
    result = roles_from_groups(names, superuser=user.is_superuser)
    setattr(user, _CACHE_ATTR, result)
    return result


def remember_roles(user: AbstractBaseUser | AnonymousUser, roles: frozenset[Role]) -> None:
    """Roles already read with the user's account (`identity`): no second query."""
    setattr(user, _CACHE_ATTR, roles)


def roles_from_groups(group_names: Collection[str | None], *, superuser: bool) -> frozenset[Role]:
    roles = {_ROLE_BY_GROUP[name] for name in group_names if name in _ROLE_BY_GROUP}
    if superuser:
        roles.add(Role.ADMIN)
    return frozenset(roles)


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: Role) -> bool:
    """True when the user holds any of the given roles."""
    return not roles_of(user).isdisjoint(roles)


def may_read(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Events, alerts, rules, history, and the WebSocket stream."""
    return has_role(user, Role.ADMIN, Role.ANALYST)


INGEST_SCOPE = "ingest"


def may_ingest(identity: "Identity | None") -> bool:
    """Send events: a person with a role, or an API key with the `ingest` scope."""
    if identity is None:
        return False
    return INGEST_SCOPE in identity.scopes or not identity.roles.isdisjoint(
        {Role.ADMIN, Role.ANALYST}
    )


def may_triage(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Change alert status and assignee."""
    return has_role(user, Role.ADMIN)
