"""Tokens live no longer than the account and the password they were issued under, and a
refresh chain ends JWT_REFRESH_DAYS after the login that started it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from conftest import PASSWORD


def obtain(api_client, user) -> dict:
    response = api_client.post(
        reverse("accounts:token"), {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()


def refresh(api_client, token: str):
    return api_client.post(reverse("accounts:token-refresh"), {"refresh": token}, format="json")


def ingest(api_client, access: str):
    return api_client.post(
        reverse("events:list"),
        {"event_type": "auth.success", "source": "web"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )


def test_a_password_change_revokes_every_access_and_refresh_token(api_client, analyst_user):
    pair = obtain(api_client, analyst_user)
    assert ingest(api_client, pair["access"]).status_code == 201

    analyst_user.set_password(PASSWORD + "-changed")
    analyst_user.save()

    refused = ingest(api_client, pair["access"])
    assert (refused.status_code, refused.json()["code"]) == (401, "password_changed")
    me = api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert me.status_code == 401
    assert (refresh(api_client, pair["refresh"]).json()["code"]) == "password_changed"


@pytest.mark.parametrize("change", ["deactivate", "delete"])
def test_refresh_tokens_of_deactivated_or_deleted_users_get_401(api_client, analyst_user, change):
    token = str(RefreshToken.for_user(analyst_user))
    if change == "deactivate":
        analyst_user.is_active = False
        analyst_user.save()
    else:
        analyst_user.delete()

    response = refresh(api_client, token)

    assert response.status_code == 401
    assert response.json()["code"] in {"user_inactive", "user_not_found"}


def test_rotation_never_moves_the_end_of_the_chain(api_client, analyst_user):
    login = RefreshToken.for_user(analyst_user)  # issued by a login an hour ago
    an_hour_ago = login.current_time - timedelta(hours=1)
    login.set_iat(at_time=an_hour_ago)
    login.set_exp(from_time=an_hour_ago)
    current, end = str(login), login["exp"]

    for _ in range(3):
        answer = refresh(api_client, current).json()
        current = answer["refresh"]
        assert RefreshToken(current)["exp"] == end
        assert AccessToken(answer["access"])["exp"] <= end


def test_a_refresh_token_with_odd_claims_gets_401_not_500(api_client, analyst_user):
    token = RefreshToken.for_user(analyst_user)
    token["user_id"] = [analyst_user.pk]

    response = refresh(api_client, str(token))

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
