"""Which senders may send, and where the listener binds."""

import pytest

from secalerts.syslog.senders import is_allowed, parse_bind, parse_networks

LOOPBACK = parse_networks(["127.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("networks", "address", "expected"),
    [
        (LOOPBACK, "127.0.0.1", True),
        (LOOPBACK, "127.255.0.9", True),
        (LOOPBACK, "::1", True),
        (LOOPBACK, "::ffff:127.0.0.1", True),  # IPv4 peers of a dual-stack socket
        (LOOPBACK, "10.0.0.1", False),
        (LOOPBACK, "::2", False),
        (LOOPBACK, "fe80::1%eth0", False),
        (LOOPBACK, "not an address", False),
        (parse_networks(["10.0.0.0/8"]), "10.20.30.40", True),
        (parse_networks(["10.0.0.0/8"]), "127.0.0.1", False),
        (parse_networks(["192.0.2.7"]), "192.0.2.7", True),  # a bare address is a /32
        (parse_networks(["0.0.0.0/0", "::/0"]), "203.0.113.5", True),
        (parse_networks([]), "127.0.0.1", False),
    ],
)
def test_is_allowed(networks, address, expected):
    assert is_allowed(address, networks) is expected


@pytest.mark.parametrize("value", ["10.0.0.0/33", "10.0.0.1/8", "example.com", ""])
def test_bad_networks_are_refused(value):
    with pytest.raises(ValueError, match="SYSLOG_ALLOWED_CIDRS"):
        parse_networks([value])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("127.0.0.1:5514", ("127.0.0.1", 5514)),
        ("0.0.0.0:514", ("0.0.0.0", 514)),  # noqa: S104 - a table entry, nothing binds here
        ("[::1]:5514", ("::1", 5514)),
        ("[::]:6514", ("::", 6514)),
        ("localhost:0", ("localhost", 0)),
    ],
)
def test_parse_bind(value, expected):
    assert parse_bind(value) == expected


@pytest.mark.parametrize("value", ["5514", "127.0.0.1", "127.0.0.1:99999", "::1:5514", ":5514"])
def test_bad_bind_is_refused(value):
    with pytest.raises(ValueError, match="SYSLOG_BIND"):
        parse_bind(value)
