"""App config for sigma: Sigma rules imported and compiled into ordinary rules."""

from django.apps import AppConfig


class SigmaConfig(AppConfig):
    name = "secalerts.sigma"
    label = "sigma"
