"""create_user and create_demo_users management commands."""

import io

import pytest
from django.core.management import CommandError, call_command

from secalerts.accounts.roles import Role, roles_of


def test_create_user_reads_password_from_stdin(django_user_model, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password-42\n"))

    call_command(
        "create_user", "dana", "--role", "analyst", "--password-stdin", stdout=io.StringIO()
    )

    user = django_user_model.objects.get(username="dana")
    assert user.check_password("a-long-enough-password-42")
    assert roles_of(user) == {Role.ANALYST}


def test_create_user_rejects_weak_password_and_existing_names(db, monkeypatch, admin_user):
    monkeypatch.setattr("sys.stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("create_user", "erin", "--role", "admin", "--password-stdin")

    with pytest.raises(CommandError, match="already exists"):
        call_command("create_user", admin_user.username, "--role", "admin", "--password-stdin")


def test_demo_users_are_created_once(django_user_model, settings):
    settings.DEBUG = True
    first, second = io.StringIO(), io.StringIO()

    call_command("create_demo_users", stdout=first)
    call_command("create_demo_users", stdout=second)

    assert "admin / " in first.getvalue()
    assert "analyst / " in first.getvalue()
    assert second.getvalue() == ""
    assert roles_of(django_user_model.objects.get(username="admin")) == {Role.ADMIN}


def test_no_demo_users_without_debug(django_user_model, settings):
    settings.DEBUG = False
    out = io.StringIO()

    call_command("create_demo_users", stdout=out)

    assert not django_user_model.objects.exists()
    assert "/" not in out.getvalue()
