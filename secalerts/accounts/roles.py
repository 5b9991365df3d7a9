"""The one place that answers "what may this user do": roles from Django groups."""

from collections import defaultdict
from collections.abc import Collection
from enum import StrEnum

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group
from django.db import connection


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
    names = user.groups.values_list("name", flat=True)  # type: ignore[union-attr]
    result = _roles(names, superuser=getattr(user, "is_superuser", False))
    setattr(user, _CACHE_ATTR, result)
    return result


def roles_of_active_users(user_ids: Collection[int]) -> dict[int, frozenset[Role]]:
    """`roles_of` for many users at once, by id; users gone or inactive are left out.

    One plain SQL query: the ingest path asks this for every group of requests, and
    building the ORM's query cost more than running it.
    """
    if not user_ids:
        return {}
    q = connection.ops.quote_name
    users = get_user_model()._meta
    member = users.get_field("groups").remote_field.through._meta
    user_id = f"u.{q(users.pk.column)}"
    member_user, member_group = (q(member.get_field(name).column) for name in ("user", "group"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {user_id}, u.is_superuser, g.name FROM {q(users.db_table)} u "  # noqa: S608 - names are ours
            f"LEFT JOIN {q(member.db_table)} m ON m.{member_user} = {user_id} "
            f"LEFT JOIN {q(Group._meta.db_table)} g ON g.id = m.{member_group} "
            f"WHERE {user_id} IN ({', '.join(['%s'] * len(user_ids))}) AND u.is_active",
            list(user_ids),
        )
        rows = cursor.fetchall()
    names: dict[int, list[str]] = defaultdict(list)
    superusers = set()
    for pk, superuser, name in rows:
        names[pk].append(name)
        if superuser:
            superusers.add(pk)
    return {
        pk: _roles(group_names, superuser=pk in superusers) for pk, group_names in names.items()
    }


def _roles(group_names: Collection[str | None], *, superuser: bool) -> frozenset[Role]:
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


def may_triage(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Change alert status and assignee."""
    return has_role(user, Role.ADMIN)
