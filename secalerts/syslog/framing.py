"""RFC 6587 framing of syslog over TCP: octet counting and newline framing. No I/O.

Each message is framed either way, told apart by its first byte: a digit starts an
octet count (`LEN SP MSG`); anything else is a line ending at LF (RFC 3164 and 5424
messages start with `<`). A line that starts with digits not followed by a space (an
ISO 8601 time) is still a line.
"""

MAX_MESSAGE_BYTES = 64 * 1024
# An octet count longer than this is no count; 10 digits cover any length a sender has.
_MAX_LENGTH_DIGITS = 10
_DIGITS = frozenset(b"0123456789")
_SPACE = 0x20


class Deframer:
    """Messages out of one connection's byte stream, whatever the reads' boundaries.

    Holds at most `max_bytes` plus one read: a longer message is cut at `max_bytes` and
    the rest skipped as it arrives, never buffered. Empty messages are left out.
    """

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.truncated = 0
        self._buffer = bytearray()
        self._skip = 0  # bytes of an over-long counted frame still to discard
        self._skip_line = False  # an over-long line: discard up to its LF

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        position, end = 0, len(buffer)
        while position < end:
            if self._skip:
                skipped = min(self._skip, end - position)
                self._skip -= skipped
                position += skipped
                continue
            if self._skip_line:
                newline = buffer.find(b"\n", position)
                if newline < 0:
                    position = end
                    break
                self._skip_line = False
                position = newline + 1
                continue
            if buffer[position] in _DIGITS:
                frame = self._counted(buffer, position, end, messages)
                if frame is None:
                    break  # the count or its frame is incomplete: wait for more
                if frame >= 0:
                    position = frame
                    continue
            newline = buffer.find(b"\n", position)
            if newline < 0:
                if end - position > self.max_bytes:
                    messages.append(bytes(buffer[position : position + self.max_bytes]))
                    self.truncated += 1
                    self._skip_line = True
                    position = end
                break
            line_end = newline
            if newline > position and buffer[newline - 1] == 0x0D:
                line_end -= 1  # CRLF senders
            if line_end - position > self.max_bytes:
                messages.append(bytes(buffer[position : position + self.max_bytes]))
                self.truncated += 1
            elif line_end > position:
                messages.append(bytes(buffer[position:line_end]))
            position = newline + 1
        del buffer[:position]
        return messages

    def close(self) -> list[bytes]:
        """At the end of the stream: a last line without LF is still a message."""
        rest = b"" if self._skip or self._skip_line else bytes(self._buffer.rstrip(b"\r"))
        self._buffer.clear()
        return [rest[: self.max_bytes]] if rest else []

    def _counted(
        self, buffer: bytearray, start: int, end: int, messages: list[bytes]
    ) -> int | None:
        """The position after the octet-counted frame at `start`; None if more bytes are
        needed, -1 if what starts there is a line, not a count."""
        digits_end = start
        limit = min(end, start + _MAX_LENGTH_DIGITS + 1)
        while digits_end < limit and buffer[digits_end] in _DIGITS:
            digits_end += 1
        if digits_end == end and digits_end - start <= _MAX_LENGTH_DIGITS:
            return None
        if buffer[digits_end] != _SPACE or digits_end - start > _MAX_LENGTH_DIGITS:
            return -1
        length = int(buffer[start:digits_end])
        body = digits_end + 1
        kept = min(length, self.max_bytes)
        if end - body < kept:
            return None
        if kept:
            messages.append(bytes(buffer[body : body + kept]))
        if length > kept:
            self.truncated += 1
            self._skip = length - kept
        return body + kept
