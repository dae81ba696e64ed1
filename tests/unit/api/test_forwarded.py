"""Forwarded headers name the client only when a trusted proxy sent them; anyone else's are dropped."""

from __future__ import annotations

import pytest
from starlette.types import Message, Scope

from api.forwarded import ForwardedHeaders
from services.settings import parse_networks


async def seen_by_the_app(peer: str, headers: dict[str, str], trusted: str, kind: str = "http") -> Scope:
    """The scope the app behind the middleware gets for a request from ``peer`` with ``headers``."""
    seen: list[Scope] = []

    async def app(scope: Scope, receive: object, send: object) -> None:
        seen.append(scope)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    scope = {
        "type": kind,
        "scheme": "http" if kind == "http" else "ws",
        "client": (peer, 50000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
    }
    await ForwardedHeaders(app, trusted=parse_networks(trusted))(scope, receive, send)
    return seen[0]


async def test_without_trusted_proxies_a_spoofed_address_changes_nothing_and_is_dropped():
    scope = await seen_by_the_app(
        "127.0.0.1",
        {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/evil"},
        trusted="",
    )
    assert scope["client"] == ("127.0.0.1", 50000)
    assert scope["scheme"] == "http"
    assert scope["headers"] == []  # nothing after this can believe them by mistake


async def test_a_trusted_proxy_names_the_client_and_its_scheme():
    scope = await seen_by_the_app(
        "10.0.0.2", {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}, trusted="10.0.0.0/24"
    )
    assert scope["client"] == ("203.0.113.7", 0)
    assert scope["scheme"] == "https"


async def test_a_proxy_outside_the_trusted_networks_is_not_believed():
    scope = await seen_by_the_app("10.0.1.2", {"X-Forwarded-For": "203.0.113.7"}, trusted="10.0.0.0/24")
    assert scope["client"] == ("10.0.1.2", 50000)


async def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy():
    # the client wrote "198.51.100.1" itself; our proxy 10.0.0.2 appended the address it saw
    scope = await seen_by_the_app(
        "10.0.0.3", {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.2"}, trusted="10.0.0.0/24"
    )
    assert scope["client"] == ("203.0.113.7", 0)


@pytest.mark.parametrize(
    ("forwarded", "client", "scheme"),
    [
        ("for=203.0.113.7;proto=https", "203.0.113.7", "https"),
        ('for="[2001:db8::7]:4711";proto=https', "2001:db8::7", "https"),
        ("for=198.51.100.1, for=203.0.113.7:1234;proto=http", "203.0.113.7", "http"),
    ],
)
async def test_the_standard_forwarded_header_is_read_too(forwarded, client, scheme):
    scope = await seen_by_the_app("::1", {"Forwarded": forwarded}, trusted="127.0.0.1, ::1")
    assert scope["client"] == (client, 0)
    assert scope["scheme"] == scheme


async def test_a_websocket_gets_the_secure_websocket_scheme():
    scope = await seen_by_the_app(
        "127.0.0.1",
        {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        "127.0.0.1",
        "websocket",
    )
    assert (scope["client"], scope["scheme"]) == (("203.0.113.7", 0), "wss")


async def test_a_name_instead_of_an_address_leaves_the_proxys_own():
    scope = await seen_by_the_app("127.0.0.1", {"X-Forwarded-For": "unknown"}, trusted="127.0.0.1")
    assert scope["client"] == ("127.0.0.1", 50000)
