"""The column names that plain SQL over our models (and Django's user table) uses."""

from django.db.models import Field


def column_of(field: object) -> str:
    """The column of a model field that has one of its own (not a reverse relation)."""
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{field!r} has no column")
    return field.column
