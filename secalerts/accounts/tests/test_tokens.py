"""Token endpoints and bearer authentication, as a client sees them."""

import base64
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from conftest import PASSWORD


def obtain(api_client, username, password=PASSWORD, **extra):
    return api_client.post(
        reverse("accounts:token"),
        {"username": username, "password": password},
        format="json",
        **extra,
    )


def me(api_client, token):
    return api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=f"Bearer {token}")


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


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


def _expired(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def _tampered(user) -> str:
    header, payload, signature = str(AccessToken.for_user(user)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(int(claims["user_id"]) + 1)
    return f"{header}.{b64(claims)}.{signature}"


def _alg_none(user) -> str:
    _, payload, _ = str(AccessToken.for_user(user)).split(".")
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."


def _refresh_as_access(user) -> str:
    return str(RefreshToken.for_user(user))


def _wrong_key(user) -> str:
    import jwt

    token = AccessToken.for_user(user)
    return jwt.encode(dict(token.payload), "another-secret-key-another-secret-key!!", "HS256")


def _not_yet_valid(user) -> str:
    import jwt
    from django.conf import settings

    token = AccessToken.for_user(user)
    claims = dict(token.payload)
    claims["nbf"] = claims["iat"] + 3600
    return jwt.encode(claims, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256")


@pytest.mark.parametrize(
    "make_token",
    [_expired, _tampered, _alg_none, _refresh_as_access, _wrong_key, _not_yet_valid],
    ids=["expired", "tampered", "alg-none", "refresh-as-access", "wrong-key", "not-yet-valid"],
)
def test_bad_access_tokens_get_401(api_client, analyst_user, make_token):
    response = me(api_client, make_token(analyst_user))

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
