"""Where notifications may go: never to link-local or cloud-metadata addresses.

Checked twice: when a channel is saved (its host as written, and what it resolves to
then) and when each message is sent, on the addresses the name resolves to at that
moment (a name may be pointed at a metadata address after it was saved); the
connection then goes to the address checked, not to a second lookup.

Private and loopback addresses are allowed unless NOTIFY_ALLOW_PRIVATE is off:
receivers are often internal (a chat bridge, a SOAR on the LAN). docs/notifications.md
says what else an operator should restrict.
"""

import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services by name and by address, beyond the link-local ranges.
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.packet.net",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)
LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class RefusedAddress(Exception):
    """The destination is one notifications never go to."""


def refusal(address: IPAddress) -> str | None:
    """Why this address is refused, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return f"{address} is a cloud metadata address"
    if any(address in network for network in LINK_LOCAL):
        return f"{address} is link-local"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return f"{address} is not a unicast address"
    if not settings.NOTIFY_ALLOW_PRIVATE and not address.is_global:
        return f"{address} is private or loopback (NOTIFY_ALLOW_PRIVATE is off)"
    return None


def check_host(host: str) -> None:
    """Refuse a host name or address literal as written (no lookup)."""
    name = host.strip("[]").rstrip(".").lower()
    if name in METADATA_NAMES:
        raise RefusedAddress(f"{host} is a cloud metadata host")
    try:
        literal = ipaddress.ip_address(name)
    except ValueError:
        return
    if reason := refusal(literal):
        raise RefusedAddress(reason)


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """The host's addresses as (family, address), every one allowed, or RefusedAddress.

    Any refused address refuses the host: a name with one good and one metadata
    address could otherwise be steered to the latter."""
    check_host(host)
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    found: list[tuple[int, str]] = []
    for family, _, _, _, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if reason := refusal(ipaddress.ip_address(address)):
            raise RefusedAddress(f"{host} resolves to {reason}")
        if (family, address) not in found:
            found.append((family, address))
    return found


def check_url(url: str) -> None:
    """At save time: the URL's host, and its addresses if it resolves now."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress("only http and https URLs with a host are allowed")
    with contextlib.suppress(OSError):  # not resolvable now: checked at every send
        resolve(parts.hostname, parts.port or 443)
