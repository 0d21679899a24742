"""Request facts that security decisions depend on."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.requests import Request


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address; X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if not forwarded or not _is_trusted(peer, trusted_proxies):
        return peer
    # Walk from the nearest hop back; the first address that is not a proxy is the client.
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def request_origin_allowed(request: Request, trusted_origins: list[str]) -> bool:
    """True when the browser says the request comes from our own site (CSRF defence).

    Browsers send Origin on cross-site POSTs; Referer is the fallback some privacy settings
    leave. A request with neither is refused when it carries a session cookie.
    """
    claimed = request.headers.get("origin")
    if not claimed or claimed == "null":
        referer = request.headers.get("referer")
        claimed = origin_of(referer) if referer else None
    if not claimed:
        return False
    allowed = {o.lower().rstrip("/") for o in trusted_origins}
    host = request.headers.get("host")
    if host:
        allowed.add(f"{request.url.scheme}://{host}".lower())
        forwarded_proto = request.headers.get("x-forwarded-proto")
        if forwarded_proto:
            allowed.add(f"{forwarded_proto}://{host}".lower())
    return claimed.lower().rstrip("/") in allowed
