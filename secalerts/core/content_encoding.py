"""Request bodies sent compressed (`Content-Encoding: gzip`), as log shippers send them.

The size limit applies to the decompressed body, and decompression stops as soon as it
is passed: a small body that inflates without end (a zip bomb) costs at most the limit.
"""

import zlib

from secalerts.core.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

GZIP = frozenset({"gzip", "x-gzip"})
IDENTITY = frozenset({"", "identity"})
_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around deflate data


def decode_content(body: bytes, encoding: str | bytes | None, *, max_bytes: int) -> bytes:
    """The body as sent before its Content-Encoding; raises 413, 415 or 400."""
    if isinstance(encoding, bytes):
        encoding = encoding.decode("latin-1")
    name = (encoding or "").strip().lower()
    if name in IDENTITY:
        return body
    if name not in GZIP:
        raise UnsupportedMediaType(
            f"Unsupported Content-Encoding {name!r}: send gzip or an uncompressed body."
        )
    inflater = zlib.decompressobj(_GZIP_WINDOW)
    try:
        plain = inflater.decompress(body, max_bytes + 1)
        if len(plain) > max_bytes or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"The decompressed body is larger than {max_bytes} bytes.")
        plain += inflater.flush()
    except zlib.error as error:
        raise InvalidInput(f"Malformed gzip body: {error}") from error
    if not inflater.eof:
        raise InvalidInput("Malformed gzip body: it ends before its gzip trailer.")
    if len(plain) > max_bytes:
        raise PayloadTooLarge(f"The decompressed body is larger than {max_bytes} bytes.")
    return plain
