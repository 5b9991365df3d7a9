import functools

from daphne.http_protocol import HTTPFactory
from twisted.web import http

from secalerts.core.daphne_tuning import CONTENT_TYPES_CACHED, tune_daphne


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
