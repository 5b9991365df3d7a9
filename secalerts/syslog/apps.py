"""The syslog listener: an app of its own so its command sits beside it, above events."""

from django.apps import AppConfig


class SyslogConfig(AppConfig):
    name = "secalerts.syslog"
    label = "syslog"
