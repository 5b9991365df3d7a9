from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "secalerts.console"
    verbose_name = "Analyst console"
