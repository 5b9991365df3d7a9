"""App config for events."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "secalerts.events"
    label = "events"
