"""Refuse warehouse hosts that point at the machine's own cloud plumbing (SSRF guard).

Loopback and private ranges stay allowed: self-hosted warehouses live there. The check runs on
every resolved address, so a DNS name pointing at a metadata endpoint is refused too (a name
that re-resolves differently between this check and the connection is not covered).
"""

from __future__ import annotations

import ipaddress
import socket

from tripl.observe.warehouse.base import WarehouseUnreachable

_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "metadata.goog"})
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class HostRefused(WarehouseUnreachable, ValueError):
    """The host may not be used for a warehouse (or cannot be resolved); the message says why."""


def _refusal(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata endpoint"
    if address.is_unspecified:
        return "an unspecified address"
    if any(address in network for network in _LINK_LOCAL):
        return "a link-local address"
    return None


def check_host(host: str) -> None:
    """Raise HostRefused unless every address `host` resolves to is allowed for a warehouse."""
    name = host.strip().rstrip(".").lower()
    if not name:
        raise HostRefused("The host is empty.")
    if name in _METADATA_NAMES:
        raise HostRefused(f"The host {host!r} is a cloud metadata endpoint and cannot be used.")
    try:
        literal: IPAddress | None = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            raise HostRefused(f"Could not resolve the host {host!r}.") from None
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        reason = _refusal(address)
        if reason is not None:
            raise HostRefused(f"The host {host!r} resolves to {reason} ({address}) and cannot be used.")
