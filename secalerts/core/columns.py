"""The column names that plain SQL over our models (and Django's user table) uses."""

from django.db.models import Field

# What an id (or any bigint) column holds; SQLite's driver raises on larger ints, so
# input past it is refused as bad input before it reaches a query.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def column_of(field: object) -> str:
    """The column of a model field that has one of its own (not a reverse relation)."""
    if not isinstance(field, Field) or field.column is None:
        raise TypeError(f"{field!r} has no column")
    return field.column
