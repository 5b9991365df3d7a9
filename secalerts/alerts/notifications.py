"""Pushes of new and changed alerts to the channel layer, queued to run after commit."""

from collections.abc import Iterable


def notify_alerts(*, created: Iterable[int] = (), updated: Iterable[int] = ()) -> None:
    """Queue one `alert.created` / `alert.updated` push per alert id, sent after commit."""
    # TODO(#4): send to the channel layer.
