"""The real server (``python app.py``) refuses an oversized body while it arrives: a 300 MB upload to the
Stripe webhook is answered 413 after its first few hundred kB, and the server's memory stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.portal_process import RunningPortal, running_portal

MB = 1024 * 1024
STRIPE = {
    "PORTAL_BCRYPT_ROUNDS": "4",
    "PORTAL_STRIPE_SECRET_KEY": "sk_test_bodies",
    "PORTAL_STRIPE_PUBLISHABLE_KEY": "pk_test_bodies",
    "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_bodies",
    "PORTAL_STRIPE_API_BASE": "http://127.0.0.1:9",  # never called: a webhook needs no API
}


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("bodies") / "data", settings=STRIPE) as running:
        yield running


def resident_kb(pid: int) -> int:
    """The process's resident memory (VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class Stream:
    """300 MB in 1 MB chunks, made as they are sent: the test itself never holds them."""

    def __init__(self, size: int = 300 * MB) -> None:
        self.size, self.sent = size, 0

    def __iter__(self) -> Iterator[bytes]:
        chunk = b"x" * MB
        while self.sent < self.size:
            self.sent += len(chunk)
            yield chunk


def test_a_300_mb_body_to_the_webhook_is_refused_while_it_arrives(portal):
    webhook = f"{portal.url}/api/webhooks/stripe"
    httpx.post(webhook, content=b"{}")  # the route's first call: whatever it loads is loaded
    before = resident_kb(portal.pid)
    stream = Stream()

    response = httpx.post(webhook, content=stream, timeout=60)  # chunked: no Content-Length to go by

    grown_kb = resident_kb(portal.pid) - before
    assert grown_kb < 5 * 1024
    assert stream.sent < 50 * MB  # the server closed the connection; the rest was never sent
    assert response.status_code == 413
    assert "larger than 512 kB" in response.json()["detail"]


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(portal):
    stream = Stream()
    response = httpx.post(
        f"{portal.url}/api/webhooks/stripe",
        content=stream,
        headers={"Content-Length": str(stream.size)},
        timeout=60,
    )

    assert response.status_code == 413
    assert stream.sent < 50 * MB


@pytest.mark.parametrize(
    ("path", "size", "allowed"),
    [
        ("/api/webhooks/stripe", 400 * 1024, True),
        ("/api/webhooks/stripe", 600 * 1024, False),
        ("/auth/login", 4 * 1024, True),
        ("/auth/login", 20 * 1024, False),
        ("/admin/auth/login", 20 * 1024, False),
        ("/api/v1/clients", 900 * 1024, True),
        ("/api/v1/clients", 2 * MB, False),
        ("/_nicegui/client/c0ffee/upload/1", int(1.5 * MB), True),  # the 1 MB logo, with its form
        ("/_nicegui/client/c0ffee/upload/1", 3 * MB, False),
        ("/login", 100 * 1024, False),
    ],
)
def test_each_path_takes_the_body_it_needs_and_no_more(portal, path, size, allowed):
    response = httpx.post(f"{portal.url}{path}", content=b"x" * size, headers={"Content-Type": "text/plain"})

    assert (response.status_code != 413) is allowed, response.text


def test_normal_requests_still_work(portal):
    # a signed-looking event of normal size reaches the route, which checks its signature
    refused = httpx.post(
        f"{portal.url}/api/webhooks/stripe",
        content=b'{"id": "evt_1"}',
        headers={"Stripe-Signature": "t=1,v1=0"},
    )
    assert refused.status_code == 400
    assert "signature" in refused.json()["error"].lower()
    signed_in = httpx.post(
        f"{portal.url}/auth/login", data={"email": "demo@client.example", "password": "Demo-Portal-2026"}
    )
    assert signed_in.status_code == 303
    assert "portal_session" in signed_in.cookies
    assert httpx.get(f"{portal.url}/login").status_code == 200
