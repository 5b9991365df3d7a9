"""App config for alerts."""

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "secalerts.alerts"
    label = "alerts"
