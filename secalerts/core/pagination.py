"""Keyset cursor pagination: `(sort value, id)` positions, so any depth costs one index range.

DRF's CursorPagination positions on the first ordering column and skips ties with an
OFFSET; ordering alerts by severity (five values) would make deep pages scan hundreds
of thousands of rows. Here the cursor holds the last row's value and id.
"""

import base64
import json
from collections import OrderedDict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class KeysetPagination(BasePagination):
    """`?page_size=` (default 50, at most 500); follow `next` / `previous`.

    The view gives the ordering as two columns, the sort column and the id, both
    ascending or both descending (e.g. `["-created_at", "-id"]`).
    """

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list[Any]:
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
        if not isinstance(row_id, int):
            raise NotFound("Invalid cursor.")
        return Q(**{f"{self.column}__{near}": value}) & (
            Q(**{f"{self.column}__{far}": value}) | Q(**{f"id__{far}": row_id})
        )

    def _parse(self, raw: Any) -> Any:
        try:
            if self.column in {"created_at", "last_seen", "timestamp"}:
                return datetime.fromisoformat(raw)
            if isinstance(raw, int) and not isinstance(raw, bool):
                return raw
        except (TypeError, ValueError):
            pass
        raise NotFound("Invalid cursor.")

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


def _flip(term: str) -> str:
    return term[1:] if term.startswith("-") else f"-{term}"


def _page_size(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return DEFAULT_PAGE_SIZE
    try:
        return max(1, min(MAX_PAGE_SIZE, int(raw)))
    except ValueError:
        return DEFAULT_PAGE_SIZE


def _decode(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        cursor = json.loads(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (ValueError, UnicodeError) as error:
        raise NotFound("Invalid cursor.") from error
    if not isinstance(cursor, dict):
        raise NotFound("Invalid cursor.")
    return cursor
