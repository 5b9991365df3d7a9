"""App configs: accounts, and the admin whose default site is ours."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "secalerts.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the OpenAPI extension for our authentication class.
        from secalerts.accounts import schema  # noqa: F401


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site, whose login shares the API's login throttle."""

    default = False  # named in INSTALLED_APPS; "secalerts.accounts" still means AccountsConfig
    default_site = "secalerts.accounts.admin_login.AdminSite"
