"""Creating users with a role."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from secalerts.accounts.roles import GROUP_NAMES, Role


@transaction.atomic
def create_user_with_role(*, username: str, password: str, role: Role) -> AbstractUser:
    user_model = get_user_model()
    user = user_model.objects.create_user(
        username=username, password=password, is_staff=role is Role.ADMIN
    )
    # get_or_create: the migration makes the groups, but a flushed test database has none.
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
    user.groups.add(group)
    return user
