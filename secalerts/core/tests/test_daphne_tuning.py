from twisted.web import http

from secalerts.core.daphne_tuning import CONTENT_TYPES_CACHED, cache_content_type_parsing


def test_memoised_content_type_parsing_gives_twisteds_answers():
    cache_content_type_parsing()
    parse = http._parseContentType
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

    cache_content_type_parsing()  # a second call does not wrap the cache again
    assert http._parseContentType is parse
    for number in range(2 * CONTENT_TYPES_CACHED):
        parse(f"text/x-{number}".encode())
    assert parse.cache_info().currsize == CONTENT_TYPES_CACHED
