"""App config for the audit trail."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "secalerts.audit"
    label = "audit"
