"""Development only: create the demo users admin and analyst once and print their passwords."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from secalerts.accounts.roles import Role
from secalerts.accounts.services import create_user_with_role


class Command(BaseCommand):
    help = "Create the demo users admin and analyst if they do not exist (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            self.stdout.write("DEBUG is off: no demo users are created.")
            return
        users = get_user_model().objects
        for role in Role:
            username = role.value
            if users.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            create_user_with_role(username=username, password=password, role=role)
            self.stdout.write(
                self.style.WARNING(f"Demo user created: {username} / {password}  (role {role})")
            )
