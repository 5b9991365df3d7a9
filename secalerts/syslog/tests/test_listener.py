"""UDP: a datagram a message; refused senders and a full queue cost the datagram, counted."""

from secalerts.syslog.batcher import MAX_LINES, MAX_PENDING_BATCHES, Batcher
from secalerts.syslog.framing import MAX_MESSAGE_BYTES
from secalerts.syslog.listener import Listener, _Datagrams
from secalerts.syslog.senders import parse_networks


def datagrams(
    *, max_lines: int = MAX_LINES, max_pending_batches: int = MAX_PENDING_BATCHES
) -> tuple[_Datagrams, Batcher]:
    # No consumer runs: sealed batches stay queued, so the queue fills.
    batcher = Batcher(store=len, max_lines=max_lines, max_pending_batches=max_pending_batches)
    listener = Listener(batcher=batcher, networks=parse_networks(["127.0.0.0/8", "::1/128"]))
    return _Datagrams(listener), batcher


async def test_datagrams_are_dropped_and_counted_when_the_queue_is_full_or_the_sender_refused():
    protocol, batcher = datagrams(max_lines=1, max_pending_batches=1)

    protocol.datagram_received(b"<13>one\n", ("127.0.0.1", 40000))  # fills the queue
    protocol.datagram_received(b"<13>two", ("127.0.0.1", 40000))
    protocol.datagram_received(b"<13>three", ("192.0.2.1", 40000))
    batcher.close()

    counters = batcher.counters
    assert (counters.received, counters.dropped_full, counters.dropped_denied) == (1, 1, 1)


async def test_a_datagram_is_one_message_cut_at_the_limit():
    protocol, batcher = datagrams()

    protocol.datagram_received(b"<13>" + b"x" * MAX_MESSAGE_BYTES + b"\n", ("::1", 40000, 0, 0))
    protocol.datagram_received(b"<13>a\nb\r\n\x00", ("::ffff:127.0.0.1", 40000, 0, 0))
    protocol.datagram_received(b"\n", ("127.0.0.1", 40000))
    batcher.close()

    lines = batcher._current
    assert [len(line.text) for line in lines] == [MAX_MESSAGE_BYTES, 7]
    assert lines[1].text == "<13>a\nb"
    assert [line.sender for line in lines] == ["::1", "127.0.0.1"]
    assert batcher.counters.truncated == 1
