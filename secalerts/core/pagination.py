"""Keyset cursor pagination: `(sort value, id)` positions, so any depth costs one index range.

DRF's CursorPagination positions on the first ordering column and skips ties with an
OFFSET; ordering alerts by severity (five values) would make deep pages scan hundreds
of thousands of rows. Here the cursor holds the last row's value and id.

Either kind refuses a cursor it cannot decode or whose position does not fit the
column with a 400, and a `page_size` outside 1..500 too.
"""

import base64
import json
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from urllib import parse
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from secalerts.core.columns import BIGINT_MAX, BIGINT_MIN
from secalerts.core.errors import InvalidInput

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@runtime_checkable
class OrderedView(Protocol):
    """A view paged by keyset: it names the sort column and the id, in one direction."""

    def get_ordering(self, request: Request) -> list[str]: ...


class KeysetPagination(BasePagination):
    """`?page_size=` (default 50, at most 500); follow `next` / `previous`.

    The view gives the ordering as two columns, the sort column and the id, both
    ascending or both descending (e.g. `["-created_at", "-id"]`).
    """

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any]:
        if not isinstance(queryset, QuerySet):
            raise TypeError("KeysetPagination pages a QuerySet")
        if view is not None and not isinstance(view, OrderedView):
            raise TypeError(f"{type(view).__name__} must define get_ordering(request)")
        self.request = request
        self.ordering = view.get_ordering(request) if view is not None else ["-id", "-id"]
        self.column = self.ordering[0].lstrip("-")
        self.descending = self.ordering[0].startswith("-")
        self.page_size = _page_size(request)
        cursor = _decode(request.query_params.get("cursor"))
        backwards = bool(cursor and cursor.get("back"))
        if cursor is not None:
            value = self._parse(cursor.get("v"))
            queryset = queryset.filter(self._after(value, cursor.get("i"), backwards))
        order = self.ordering if not backwards else [_flip(term) for term in self.ordering]
        rows = list(queryset.order_by(*order)[: self.page_size + 1])
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
        self.has_next = more if not backwards else True
        self.has_previous = (cursor is not None) if not backwards else more
        self.page = rows
        return rows

    def _after(self, value: Any, row_id: Any, backwards: bool) -> Q:
        # "col <= v AND (col < v OR id < i)": the first part is an index range, the rest
        # only filters ties, so PostgreSQL starts the scan at the cursor, not at the top.
        going_down = self.descending != backwards
        near, far = ("lte", "lt") if going_down else ("gte", "gt")
        if not _is_int(row_id):
            raise invalid_cursor()
        return Q(**{f"{self.column}__{near}": value}) & (
            Q(**{f"{self.column}__{far}": value}) | Q(**{f"id__{far}": row_id})
        )

    def _parse(self, raw: Any) -> Any:
        if self.column in {"created_at", "last_seen", "timestamp"}:
            try:
                return utc_datetime(datetime.fromisoformat(raw))
            except (TypeError, ValueError, OverflowError) as error:
                raise invalid_cursor() from error
        if _is_int(raw):
            return raw
        raise invalid_cursor()

    def _link(self, row: Any, back: bool) -> str:
        value = getattr(row, self.column)
        position = {"v": value.isoformat() if isinstance(value, datetime) else value, "i": row.pk}
        if back:
            position["back"] = True
        token = base64.urlsafe_b64encode(json.dumps(position).encode()).decode()
        params = self.request.query_params.copy()
        params["cursor"] = token
        return (
            self.request.build_absolute_uri(self.request.path) + "?" + urlencode(params, doseq=True)
        )

    def get_paginated_response(self, data: list[Any]) -> Response:
        next_link = self._link(self.page[-1], back=False) if self.has_next and self.page else None
        previous_link = (
            self._link(self.page[0], back=True) if self.has_previous and self.page else None
        )
        return Response(
            OrderedDict([("next", next_link), ("previous", previous_link), ("results", data)])
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per page: default {DEFAULT_PAGE_SIZE}, max {MAX_PAGE_SIZE}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


class CheckedCursorPagination(CursorPagination):
    """DRF's cursor pagination with every bad `cursor` or `page_size` a 400: a position
    DRF passes on unchecked may not fit the database (year 1 at +14:00 overflowed
    SQLite's conversion to UTC)."""

    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(
        self,
        queryset: QuerySet[Any, Any] | Sequence[Any],
        request: Request,
        view: APIView | None = None,
    ) -> list[Any] | None:
        if not isinstance(queryset, QuerySet):
            raise TypeError("CheckedCursorPagination pages a QuerySet")
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request: Request) -> int:
        return _page_size(request)

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound as error:
            raise invalid_cursor() from error
        if cursor is None:
            return None
        # DRF ignores what it does not know: a cursor from elsewhere would read as page one.
        encoded = request.query_params[self.cursor_query_param]
        tokens = parse.parse_qs(base64.b64decode(encoded).decode("ascii"), keep_blank_values=True)
        if not tokens.keys() <= {"o", "r", "p"}:
            raise invalid_cursor()
        if cursor.position is None:
            return cursor
        field = self.model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            value = field.to_python(cursor.position)
            if isinstance(field, DateTimeField):
                value = utc_datetime(value).isoformat()
        except (ValidationError, TypeError, ValueError, OverflowError) as error:
            raise invalid_cursor() from error
        return cursor._replace(position=value)

    def get_schema_operation_parameters(self, view: APIView) -> list[dict[str, Any]]:
        return KeysetPagination().get_schema_operation_parameters(view)


def invalid_cursor() -> InvalidInput:
    return InvalidInput("Invalid cursor.", detail={"cursor": ["Invalid cursor."]})


def utc_datetime(value: datetime) -> datetime:
    """Aware, in UTC (naive means UTC); OverflowError past the representable range."""
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _is_int(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and BIGINT_MIN <= value <= BIGINT_MAX
    )


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"


def _page_size(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    # Out of range is refused, not clamped: the schema says 1 to MAX_PAGE_SIZE.
    # Short before int(): thousands of digits make int() itself raise.
    valid = raw.isascii() and raw.isdigit() and len(raw) <= 9
    if not valid or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InvalidInput(
            "Invalid page size.",
            detail={"page_size": [f"Enter a whole number from 1 to {MAX_PAGE_SIZE}."]},
        )
    return int(raw)


def _decode(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, UnicodeError) as error:
        raise invalid_cursor() from error
    if not isinstance(cursor, dict):
        raise invalid_cursor()
    return cursor
