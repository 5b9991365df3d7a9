"""App config for rule tuning."""

from django.apps import AppConfig


class TuningConfig(AppConfig):
    name = "secalerts.tuning"
    label = "tuning"
