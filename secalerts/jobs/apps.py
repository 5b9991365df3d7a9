"""Periodic jobs: an app of its own so its command sits beside it, above the state it keeps."""

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "secalerts.jobs"
    label = "jobs"
