"""Token endpoints and bearer authentication, as a client sees them."""

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import RefreshToken

from conftest import PASSWORD
from secalerts.accounts.tests.bad_tokens import BAD_TOKENS


def obtain(api_client, username, password=PASSWORD, **extra):
    return api_client.post(
        reverse("accounts:token"),
        {"username": username, "password": password},
        format="json",
        **extra,
    )


def me(api_client, token):
    return api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=f"Bearer {token}")


def test_login_returns_a_token_pair_that_authenticates(api_client, analyst_user):
    response = obtain(api_client, analyst_user.username)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    identity = me(api_client, response.json()["access"])
    assert identity.status_code == 200
    assert identity.json() == {
        "id": analyst_user.id,
        "username": analyst_user.username,
        "roles": ["analyst"],
    }


def test_me_lists_admin_for_superusers(api_client, django_user_model, bearer):
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)

    response = api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=bearer(root))

    assert response.json()["roles"] == ["admin"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "bob-analyst", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_wrong_credentials_get_401(api_client, analyst_user, body):
    response = api_client.post(reverse("accounts:token"), body, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "body", [{}, {"username": ["x"], "password": 1}, {"username": "x"}, [1, 2], "text"]
)
def test_malformed_login_body_gets_400(api_client, db, body):
    response = api_client.post(reverse("accounts:token"), body, format="json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_refresh_rotates_and_the_used_token_is_refused(api_client, analyst_user):
    refresh = obtain(api_client, analyst_user.username).json()["refresh"]

    rotated = api_client.post(
        reverse("accounts:token-refresh"), {"refresh": refresh}, format="json"
    )
    reused = api_client.post(reverse("accounts:token-refresh"), {"refresh": refresh}, format="json")

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != refresh
    assert me(api_client, rotated.json()["access"]).status_code == 200
    assert reused.status_code == 401


def test_blacklisted_refresh_token_cannot_be_used(api_client, analyst_user):
    refresh = obtain(api_client, analyst_user.username).json()["refresh"]

    logout = api_client.post(
        reverse("accounts:token-blacklist"), {"refresh": refresh}, format="json"
    )
    again = api_client.post(reverse("accounts:token-refresh"), {"refresh": refresh}, format="json")

    assert logout.status_code == 200
    assert again.status_code == 401


def test_refresh_token_of_deactivated_user_is_refused(api_client, analyst_user):
    refresh = str(RefreshToken.for_user(analyst_user))
    analyst_user.is_active = False
    analyst_user.save()

    response = api_client.post(
        reverse("accounts:token-refresh"), {"refresh": refresh}, format="json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_access_tokens_get_401(api_client, analyst_user, kind):
    response = me(api_client, BAD_TOKENS[kind](analyst_user))

    assert response.status_code == 401


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_token_of_deactivated_or_deleted_user_gets_401(api_client, analyst_user, bearer, change):
    header = bearer(analyst_user)
    if change == "deactivate":
        analyst_user.is_active = False
        analyst_user.save()
    else:
        analyst_user.delete()

    response = api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearer \x00"])
def test_malformed_authorization_headers_get_401(api_client, db, header):
    response = api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
