"""Accounts of many users at once (the ingest path) agree with roles_of, user by user."""

from django.contrib.auth.models import Group

from secalerts.accounts.identity import accounts_of
from secalerts.accounts.roles import Role, roles_of


def test_accounts_of_agrees_with_roles_of(make_user, django_user_model):
    admin = make_user("admin-1", Role.ADMIN)
    analyst = make_user("analyst-1", Role.ANALYST)
    analyst.groups.add(Group.objects.create(name="Auditors"))  # not a role
    both = make_user("both-1", Role.ANALYST)
    both.groups.add(Group.objects.get(name="Admin"))
    superuser = django_user_model.objects.create_superuser("root-1", password="x" * 20)
    norole = make_user("norole-1")
    inactive = make_user("inactive-1", Role.ADMIN)
    inactive.is_active = False
    inactive.save()
    users = [admin, analyst, both, superuser, norole, inactive]

    found = accounts_of([user.pk for user in users] + [999_999])

    assert {pk: account.roles for pk, account in found.items()} == {
        user.pk: roles_of(user) for user in users
    }
    assert {pk: account.password for pk, account in found.items()} == {
        user.pk: user.password for user in users
    }
    assert found[both.pk].roles == {Role.ADMIN, Role.ANALYST}
    assert found[superuser.pk].roles == {Role.ADMIN}
    assert found[norole.pk].roles == frozenset()
    assert not found[inactive.pk].is_active
    assert found[inactive.pk].roles == frozenset()
    assert 999_999 not in found
    assert accounts_of([]) == {}
