"""Who the client is, behind a proxy: forwarded headers are believed only from ``PORTAL_TRUSTED_PROXIES``.

``ForwardedHeaders`` wraps the whole app. When the connection comes from a trusted proxy, the client's
address (``Forwarded: for=`` or ``X-Forwarded-For``) and scheme (``proto=`` or ``X-Forwarded-Proto``)
replace the proxy's in the request's scope, so ``request.client`` and ``request.url`` tell the truth
to everything after it: the sign-in lock-out per address, the audit log, the pages. From anyone
else these headers are removed before any code sees them, so no code can believe a client's own claim
(NiceGUI reads ``X-Forwarded-Prefix`` too). Uvicorn's own reading of them is off (``app.py``).

Through a chain of proxies the client is the nearest address that is not a trusted proxy, read from
the right of the list: the entries left of it were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from services.settings import Network

_FORWARDED = b"forwarded"
_PREFIX = b"x-forwarded-"


class ForwardedHeaders:
    """Rewrites the client's address and scheme from a trusted proxy's headers; drops anyone else's."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            if client and self._is_trusted(client[0]):
                self._believe(scope)
            else:
                scope["headers"] = [
                    (name, value)
                    for name, value in scope["headers"]
                    if name != _FORWARDED and not name.startswith(_PREFIX)
                ]
        await self.app(scope, receive, send)

    def _is_trusted(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.trusted)

    def _believe(self, scope: Scope) -> None:
        forwarded = _values(scope, _FORWARDED)
        if forwarded:
            hops = [_forwarded_pairs(element) for element in _split(forwarded)]
            chain = [hop.get("for", "") for hop in hops]
            protos = [hop.get("proto", "") for hop in hops]
        else:
            chain = _split(_values(scope, b"x-forwarded-for"))
            protos = _split(_values(scope, b"x-forwarded-proto"))
        index = self._client_index(chain)
        if index is None:
            return
        host = _host(chain[index])
        if host is not None:
            scope["client"] = (host, 0)
        # the scheme the client used: given for its hop, or the one value a single proxy sends
        proto = protos[index] if len(protos) == len(chain) else (protos[-1] if protos else "")
        proto = proto.strip().lower()
        if proto in ("http", "https"):
            scope["scheme"] = proto.replace("http", "ws") if scope["type"] == "websocket" else proto

    def _client_index(self, chain: list[str]) -> int | None:
        """The entry naming the client: the right-most one that is not a trusted proxy."""
        if not chain:
            return None
        for index in range(len(chain) - 1, -1, -1):
            host = _host(chain[index])
            if host is None or not self._is_trusted(host):
                return index
        return 0  # every hop a trusted proxy: the first is as far as anyone can tell


def _values(scope: Scope, name: bytes) -> str:
    return ",".join(value.decode("latin-1") for key, value in scope["headers"] if key == name)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value.strip() else []


def _forwarded_pairs(element: str) -> dict[str, str]:
    """``for=192.0.2.60;proto=https`` (RFC 7239) as a dict with lower-case keys, quotes removed."""
    pairs = {}
    for pair in element.split(";"):
        key, _, value = pair.partition("=")
        pairs[key.strip().lower()] = value.strip().strip('"')
    return pairs


def _host(node: str) -> str | None:
    """The IP address in ``1.2.3.4``, ``1.2.3.4:567``, ``[::1]:567`` or ``::1``; None for anything else
    ("unknown", an obfuscated name)."""
    node = node.strip().strip('"')
    if node.startswith("["):
        node = node[1 : node.find("]")] if "]" in node else ""
    elif node.count(":") == 1:
        node = node.partition(":")[0]
    address = _address(node)
    return str(address) if address is not None else None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
