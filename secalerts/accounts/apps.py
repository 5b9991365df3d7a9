"""App config for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "secalerts.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI extension for our authentication class.
        from secalerts.accounts import schema  # noqa: F401
