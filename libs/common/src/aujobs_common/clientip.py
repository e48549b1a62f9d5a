"""The caller's IP address behind the gateway.

A service sees the gateway (or a load balancer) as its peer; the real caller is in
``X-Real-IP`` / ``X-Forwarded-For``. Those headers are anyone's to forge, so they are
believed only when the peer itself is a trusted proxy (``TRUSTED_PROXIES``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from fastapi import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings (``10.0.0.0/8``, or a bare address) as networks; host bits allowed."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def valid_ip(value: str | None) -> str | None:
    """``value`` as a canonical IP address, or ``None`` when it is not one."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: Request, trusted: Iterable[Network]) -> str | None:
    """The peer's address, or the one a trusted proxy forwarded: ``X-Real-IP`` first,
    else the last (proxy-appended) ``X-Forwarded-For`` entry. A malformed forwarded
    value falls back to the peer; a peer that is not an IP is returned as it is."""
    peer = request.client.host if request.client else None
    ip = valid_ip(peer)
    if ip is not None and any(ipaddress.ip_address(ip) in net for net in trusted):
        forwarded = request.headers.get("x-real-ip")
        if not forwarded and request.headers.get("x-forwarded-for"):
            forwarded = request.headers["x-forwarded-for"].split(",")[-1]
        ip = valid_ip(forwarded) or ip
    return ip or peer
