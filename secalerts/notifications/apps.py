"""Notifications: channels, the outbox of deliveries, and the worker that sends them."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "secalerts.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Alerts sit below this app and cannot import it: they send a signal inside the
        # transaction of every alert change, and the outbox answers it there.
        from secalerts.alerts.notifications import alerts_changed
        from secalerts.notifications import outbox

        alerts_changed.connect(outbox.record_deliveries, dispatch_uid="notifications.outbox")
