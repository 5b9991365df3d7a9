"""Who may send syslog (SYSLOG_ALLOWED_CIDRS) and where the listener binds (SYSLOG_BIND)."""

import functools
import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Raises ValueError naming the setting for a value that is no network."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as error:
            raise ValueError(f"SYSLOG_ALLOWED_CIDRS: {value!r} is not a network") from error
    return tuple(networks)


@functools.lru_cache(maxsize=4096)
def is_allowed(address: str, networks: tuple[Network, ...]) -> bool:
    """Cached: every UDP datagram asks, and a few senders send them all."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # a scoped IPv6 peer (fe80::1%eth0) too: link-local, refused
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in networks)


def sender_address(address: str) -> str:
    """The peer as users know it: an IPv4 peer of a dual-stack socket without ::ffff:."""
    if address.startswith("::ffff:") and "." in address:
        return address.removeprefix("::ffff:")
    return address


def parse_bind(value: str) -> tuple[str, int]:
    """`host:port` or `[ipv6]:port` -> (host, port); raises ValueError naming the setting."""
    host, separator, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address must be bracketed: [::1]:5514
    if not separator or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"SYSLOG_BIND: {value!r} is not host:port (IPv6: [::1]:5514)")
    return host, int(port)
