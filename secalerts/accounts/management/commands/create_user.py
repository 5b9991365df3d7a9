"""manage.py create_user NAME --role admin|analyst [--password-stdin]."""

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from secalerts.accounts.roles import Role
from secalerts.accounts.services import create_user_with_role


class Command(BaseCommand):
    help = "Create a user with the Admin or Analyst role."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[role.value for role in Role])
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"User {username!r} already exists.")
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("Passwords do not match.")
        if not password:
            raise CommandError("An empty password is not allowed.")
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        create_user_with_role(username=username, password=password, role=Role(options["role"]))
        self.stdout.write(self.style.SUCCESS(f"Created {options['role']} user {username!r}."))
