import functools
import subprocess
import sys

from daphne.http_protocol import HTTPFactory
from django.conf import settings
from twisted.web import http

from secalerts.core.server_tuning import CONTENT_TYPES_CACHED, GC_THRESHOLDS, tune_daphne


def test_the_asgi_application_leaves_its_start_up_objects_to_no_collection():
    """In a fresh interpreter, as Daphne loads it: this process's collector stays as is."""
    code = (
        "import gc, security_backend.asgi;print(gc.get_freeze_count() > 10_000, gc.get_threshold())"
    )

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split(maxsplit=1) == ["True", f"{GC_THRESHOLDS}\n"]


def test_memoised_content_type_parsing_gives_twisteds_answers():
    tune_daphne()
    parse = http._parseContentType
    assert isinstance(parse, functools._lru_cache_wrapper)
    original = parse.__wrapped__
    samples = [
        b"application/json",
        b"Application/JSON; charset=utf-8",
        b"application/x-ndjson",
        b"multipart/form-data; boundary=xyz",
        b"application/x-www-form-urlencoded",
        b"text/plain",
        b"garbage",
        b"",
    ]
    for sample in samples * 2:
        assert parse(sample) == original(sample)
    assert parse.cache_info().hits >= len(samples)

    tune_daphne()  # a second call does not wrap the cache again
    assert http._parseContentType is parse
    for number in range(2 * CONTENT_TYPES_CACHED):
        parse(f"text/x-{number}".encode())
    assert parse.cache_info().currsize == CONTENT_TYPES_CACHED


def test_twisted_formats_no_request_log_line_that_daphne_would_discard():
    tune_daphne()
    factory = object.__new__(HTTPFactory)
    written: list[str] = []
    factory._logFile = type("File", (), {"write": staticmethod(written.append)})()
    factory._logFormatter = lambda *args: "a formatted line"
    factory._logDateTime = "-"

    factory.log(None)

    assert written == []
