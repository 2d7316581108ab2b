"""The client's address behind reverse proxies: ``X-Forwarded-For`` is believed only from configured proxies.

Anyone can send the header, so it is read only when the connection comes from an address in
``INSIGHT_TRUSTED_PROXIES``; then the hops are walked from the right (the entry the nearest proxy appended) and the
first address that is not itself a trusted proxy is the client. Entries left of it were written by the client and
are ignored. ``insight serve`` turns uvicorn's own forwarded-header handling off, which trusts any local peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """The networks of addresses or CIDR ranges (host bits allowed); ValueError for an entry that is neither."""
    return [ipaddress.ip_network(e.strip(), strict=False) for e in entries]


def _address(text: str) -> Address | None:
    """An address from one hop of the header: ``1.2.3.4``, ``1.2.3.4:5678``, ``::1`` or ``[::1]:5678``."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def forwarded_client(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> str:
    """The client's address, given the connection's ``peer`` and the ``X-Forwarded-For`` header values."""
    current = _address(peer)
    if current is None or not _trusted(current, networks):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Garbage where an address should be: the last proxy we believe is the best we know.
            break
        current = address
        if not _trusted(address, networks):
            break
    return str(current)


class TrustedProxies:
    """Replaces the ASGI ``client`` with the address trusted proxies forwarded (untouched when none is set)."""

    def __init__(self, app: ASGIApp, *, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the connection on with its ``client`` resolved through ``X-Forwarded-For`` when trusted."""
        client = scope.get("client")
        if self.networks and scope["type"] in ("http", "websocket") and client:
            values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"]
            if values:
                resolved = forwarded_client(str(client[0]), values, self.networks)
                if resolved != client[0]:
                    scope = {**scope, "client": (resolved, 0)}
        await self.app(scope, receive, send)
