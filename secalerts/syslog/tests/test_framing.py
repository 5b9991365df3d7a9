"""RFC 6587 framing: octet counting and newline framing, split anywhere across reads."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secalerts.syslog.framing import Deframer


def deframe(*reads: bytes, max_bytes: int = 64) -> list[bytes]:
    deframer = Deframer(max_bytes=max_bytes)
    messages = [m for data in reads for m in deframer.feed(data)]
    return messages + deframer.close()


@pytest.mark.parametrize(
    ("reads", "expected"),
    [
        ((b"<13>one\n<13>two\n",), [b"<13>one", b"<13>two"]),
        ((b"<13>one\r\n",), [b"<13>one"]),  # CRLF senders
        ((b"<13>o", b"ne\n<1", b"3>two\n"), [b"<13>one", b"<13>two"]),
        ((b"\n\n<13>one\n\n",), [b"<13>one"]),  # empty lines are no messages
        ((b"<13>no newline at the end",), [b"<13>no newline at the end"]),
        ((b"7 <13>one8 <13>two\n",), [b"<13>one", b"<13>two\n"]),
        ((b"7", b" <13>o", b"ne"), [b"<13>one"]),  # split inside the length and the message
        ((b"10 <13>a\nb\nc\n",), [b"<13>a\nb\nc\n"]),  # newlines inside a counted frame
        ((b"3 <1>3 <1>",), [b"<1>", b"<1>"]),
        ((b"5 <1>a\n<1>b\n",), [b"<1>a\n", b"<1>b"]),  # both framings on one connection
        ((b"2024-01-01T00:00:00Z host sshd: x\n",), [b"2024-01-01T00:00:00Z host sshd: x"]),
        ((b"12345\n",), [b"12345"]),  # digits, then no space: a plain line
        ((b"0 5 <1>a\n",), [b"<1>a\n"]),  # an empty frame is no message
    ],
)
def test_deframing(reads, expected):
    assert deframe(*reads) == expected


def test_lines_longer_than_the_limit_are_truncated_and_the_rest_skipped():
    long_line = b"<13>" + b"x" * 100

    assert deframe(long_line + b"\n<13>next\n", max_bytes=10) == [long_line[:10], b"<13>next"]
    assert deframe(long_line[:50], long_line[50:] + b"\n<13>n\n", max_bytes=10) == [
        long_line[:10],
        b"<13>n",
    ]


def test_octet_counted_messages_longer_than_the_limit_are_truncated_and_the_rest_skipped():
    body = b"<13>" + b"y" * 96
    stream = b"100 " + body + b"5 <1>ok"

    assert deframe(stream, max_bytes=10) == [body[:10], b"<1>ok"]
    assert deframe(*(stream[i : i + 3] for i in range(0, len(stream), 3)), max_bytes=10) == [
        body[:10],
        b"<1>ok",
    ]


def test_truncations_are_counted():
    deframer = Deframer(max_bytes=4)

    deframer.feed(b"<13>toolong\n20 <13>also too long.....\n<1>\n")

    assert deframer.truncated == 2


def test_a_length_without_end_is_read_as_a_line():
    # More digits than any length: not octet counting, so the line is not held forever.
    assert deframe(b"12345678901234 not a length\n") == [b"12345678901234 not a length"]


# A message framed either way: octet-counted bodies are any bytes; newline-framed ones
# hold no newline, do not end in CR and do not look like a length prefix.
octet_counted = st.binary(min_size=0, max_size=40).map(
    lambda b: (b, str(len(b)).encode() + b" " + b)
)
newline_framed = (
    st.binary(min_size=1, max_size=40)
    .filter(lambda b: b"\n" not in b and not b.endswith(b"\r") and not b[:1].isdigit())
    .map(lambda b: (b, b + b"\n"))
)


@given(
    framed=st.lists(st.one_of(octet_counted, newline_framed), max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=10),
)
def test_any_split_of_a_stream_yields_the_same_messages(framed, cuts):
    stream = b"".join(wire for _, wire in framed)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    reads = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]

    got = deframe(*reads, max_bytes=1000)

    expected = [message for message, _ in framed]
    assert got == [m for m in expected if m]
