"""Request body -> list of raw items: one JSON object, a JSON array, or NDJSON; size limits."""

from typing import Any

import msgspec

from secalerts.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from secalerts.core.parsers import JSON_DECODE_ERRORS

JSON_TYPES = frozenset({"application/json"})
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonlines"})

_decode = msgspec.json.Decoder().decode


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def read_events(
    body: bytes, content_type: str, *, max_batch: int, max_bytes: int
) -> tuple[list[Any], bool]:
    """Decode a body into raw items; the flag says whether it was a batch.

    Raises PayloadTooLarge (413), UnsupportedMediaType (415) or InvalidInput (400).
    """
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"Request body is larger than {max_bytes} bytes.")
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        items, is_batch = _read_json(body)
    elif kind in NDJSON_TYPES:
        items, is_batch = _read_ndjson(body), True
    else:
        raise UnsupportedMediaType(
            f"Unsupported media type {kind or '(none)'!r}: send application/json "
            "or application/x-ndjson."
        )
    check_batch_size(len(items), is_batch=is_batch, max_batch=max_batch)
    return items, is_batch


def check_batch_size(count: int, *, is_batch: bool, max_batch: int) -> None:
    if is_batch and count == 0:
        raise InvalidInput("The batch holds no events.")
    if count > max_batch:
        raise PayloadTooLarge(f"A batch holds at most {max_batch} events; this one has {count}.")


def _read_json(body: bytes) -> tuple[list[Any], bool]:
    try:
        value = _decode(body)
    except JSON_DECODE_ERRORS as error:
        raise InvalidInput(f"Malformed JSON: {error}") from error
    if isinstance(value, dict):
        return [value], False
    if isinstance(value, list):
        return value, True
    raise InvalidInput("Send one event object or an array of event objects.")


def _read_ndjson(body: bytes) -> list[Any]:
    items = []
    for line_no, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(_decode(line))
        except JSON_DECODE_ERRORS as error:
            raise InvalidInput(f"Malformed JSON on line {line_no}: {error}") from error
    return items
