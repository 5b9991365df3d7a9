"""Intake: what log shippers and syslog senders already send, turned into events."""

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "secalerts.intake"
    label = "intake"
