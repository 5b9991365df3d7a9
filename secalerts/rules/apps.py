"""App config for rules."""

from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "secalerts.rules"
    label = "rules"
