"""Role-matrix rows for the notification routes (see tests/test_role_matrix.py)."""

from django.forms.models import model_to_dict
from django.urls import reverse

from secalerts.notifications.models import Channel
from tests.role_matrix import Row

EMAIL = {"name": "soc mail", "kind": "email", "to": ["soc@example.com"]}


def _channel() -> Channel:
    return Channel.objects.create(**EMAIL, on=["alert.created"])


def _state(_: object = None) -> list[dict]:
    return [model_to_dict(channel) for channel in Channel.objects.order_by("pk")]


def _channel_url(channel: Channel) -> str:
    return reverse("notifications:channel", args=[channel.pk])


ROWS: list[Row] = [
    Row(
        "api/notifications/channels/",
        "get",
        "admin_read",
        lambda _: reverse("notifications:channels"),
    ),
    Row(
        "api/notifications/channels/",
        "post",
        "admin_create",
        lambda _: reverse("notifications:channels"),
        body=lambda _: {**EMAIL, "name": "new"},
        state=_state,
    ),
    Row(
        "api/notifications/channels/<id:pk>/",
        "get",
        "admin_read",
        _channel_url,
        setup=_channel,
    ),
    Row(
        "api/notifications/channels/<id:pk>/",
        "patch",
        "admin_change",
        _channel_url,
        body=lambda _: {"severity_min": "critical"},
        state=_state,
        setup=_channel,
    ),
    Row(
        "api/notifications/channels/<id:pk>/",
        "delete",
        "admin_delete",
        _channel_url,
        state=_state,
        setup=_channel,
    ),
    Row(
        "api/notifications/channels/<id:pk>/test/",
        "post",
        "admin_change",
        lambda channel: reverse("notifications:channel-test", args=[channel.pk]),
        setup=_channel,
    ),
    Row(
        "api/notifications/deliveries/",
        "get",
        "admin_read",
        lambda _: reverse("notifications:deliveries"),
    ),
]
