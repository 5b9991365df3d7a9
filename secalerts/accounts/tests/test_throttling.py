"""Login throttling: the 6th failure inside a minute gets 429 with Retry-After, on the API
and the Django admin alike (one set of counters), however many attempts race."""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.backends import BaseBackend
from django.urls import reverse
from rest_framework.test import APIClient

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


def admin_login(client, username, password="wrong-password", ip="198.51.100.7"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


def test_admin_login_with_the_right_password_logs_in(client, admin_user):
    response = admin_login(client, admin_user.username, PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def test_admin_login_after_ten_wrong_passwords_refuses_the_right_one(client, admin_user):
    statuses = [admin_login(client, admin_user.username).status_code for _ in range(10)]

    right = admin_login(client, admin_user.username, PASSWORD)

    assert statuses == [200] * 5 + [429] * 5
    assert right.status_code == 429
    assert 1 <= int(right["Retry-After"]) <= 60
    assert "throttled" in right.content.decode()  # the login page, with the reason
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("first", "then"),
    [("api", "admin"), ("admin", "api")],
)
def test_api_and_admin_logins_share_the_failure_counters(
    api_client, client, admin_user, first, then
):
    attempts = {
        "api": lambda **kw: login(api_client, admin_user.username, **kw),
        "admin": lambda **kw: admin_login(client, admin_user.username, **kw),
    }
    for i in range(5):
        attempts[first if i < 3 else then](ip=f"203.0.113.{i}")

    sixth = attempts[then](password=PASSWORD, ip="203.0.113.99")
    same_ip = attempts[first](ip="203.0.113.4")  # a failure from the other login's IP

    assert sixth.status_code == 429
    assert same_ip.status_code == 429


class CountingBackend(BaseBackend):
    """Counts the passwords it checks (each with a real hash's work) and accepts none."""

    checked = 0
    lock = threading.Lock()

    def authenticate(self, request, username=None, password=None, **kwargs):
        # A real password check takes time and releases the GIL: racing attempts overlap.
        hashlib.pbkdf2_hmac("sha256", str(password).encode(), b"salt", 100_000)
        with CountingBackend.lock:
            CountingBackend.checked += 1


def test_concurrent_attempts_check_at_most_five_passwords(settings):
    settings.AUTHENTICATION_BACKENDS = [f"{__name__}.CountingBackend"]
    CountingBackend.checked = 0
    barrier = threading.Barrier(30)

    def attempt(i: int) -> int:
        client = APIClient()
        barrier.wait()
        return login(client, "bob-analyst", password=f"guess-{i}").status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(attempt, range(30)))

    assert 1 <= CountingBackend.checked <= 5
    assert sorted(statuses) == [401] * CountingBackend.checked + [429] * (
        30 - CountingBackend.checked
    )


def test_admin_login_fails_closed_without_the_shared_cache(
    client, admin_user, settings, unused_tcp_port
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{unused_tcp_port}/0",
        }
    }

    response = admin_login(client, admin_user.username, PASSWORD)

    assert response.status_code == 503
    assert "_auth_user_id" not in client.session
