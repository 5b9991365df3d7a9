"""Login throttling: the 6th failure inside a minute gets 429 with Retry-After."""

from django.urls import reverse

from conftest import PASSWORD


def login(api_client, username, password="wrong-password", ip="198.51.100.7", **extra):
    return api_client.post(
        reverse("accounts:token"),
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        **extra,
    )


def test_sixth_failure_from_one_ip_is_throttled(api_client, analyst_user):
    statuses = [login(api_client, f"user{i}").status_code for i in range(5)]

    sixth = login(api_client, "user5")

    assert statuses == [401] * 5
    assert sixth.status_code == 429
    assert 1 <= int(sixth["Retry-After"]) <= 60
    assert "detail" in sixth.json()


def test_sixth_failure_for_one_username_is_throttled_across_ips(api_client, analyst_user):
    for i in range(5):
        assert login(api_client, analyst_user.username, ip=f"203.0.113.{i}").status_code == 401

    sixth = login(api_client, analyst_user.username, password=PASSWORD, ip="203.0.113.99")

    assert sixth.status_code == 429


def test_spoofed_forwarded_for_does_not_escape_the_ip_limit(api_client, db):
    for i in range(5):
        login(api_client, f"user{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")

    sixth = login(api_client, "user9", HTTP_X_FORWARDED_FOR="10.0.0.99")

    assert sixth.status_code == 429


def test_successful_logins_are_not_counted(api_client, analyst_user):
    statuses = [login(api_client, analyst_user.username, PASSWORD).status_code for _ in range(8)]

    assert statuses == [200] * 8


def test_other_clients_are_unaffected(api_client, analyst_user):
    for i in range(6):
        login(api_client, f"user{i}", ip="198.51.100.7")

    response = login(api_client, analyst_user.username, PASSWORD, ip="198.51.100.8")

    assert response.status_code == 200


def test_login_fails_closed_and_the_api_stays_up_without_the_shared_cache(
    api_client, analyst_user, bearer, settings, unused_tcp_port
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}/0",
        }
    }

    login = api_client.post(
        reverse("accounts:token"),
        {"username": analyst_user.username, "password": PASSWORD},
        format="json",
    )
    me = api_client.get(reverse("accounts:me"), HTTP_AUTHORIZATION=bearer(analyst_user))

    assert login.status_code == 503
    assert login.json()["code"] == "throttle_state_unavailable"
    assert me.status_code == 200
