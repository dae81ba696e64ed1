"""Every kind of response carries the browser's defences: a page, a static asset, the REST API, a PDF,
a redirect, the 503 page and a 413; HSTS only under https; Stripe's origins only while Stripe is on."""

from __future__ import annotations

import re

import httpx
import pytest
from nicegui import __version__ as nicegui_version
from nicegui.testing import User
from sqlalchemy import select

from models import Invoice
from services import portal
from tests.faults import sqlite_lock
from tests.ui.conftest import post_login

DENY = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_defended(response: httpx.Response, *, framed_by_us: bool = False) -> str:
    """The headers every response has; returns its Content-Security-Policy."""
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    policy = response.headers["content-security-policy"]
    if framed_by_us:
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert policy == "frame-ancestors 'self'"
    else:
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy
        assert "'unsafe-inline'" not in directive(policy, "script-src")
    assert "strict-transport-security" not in response.headers  # plain http here
    return policy


def directive(policy: str, name: str) -> str:
    return next(part.strip() for part in policy.split(";") if part.strip().startswith(name + " "))


@pytest.fixture
def short_busy_timeout(monkeypatch):
    monkeypatch.setenv("PORTAL_SQLITE_BUSY_TIMEOUT", "0.2")  # (listed before ``user``: app.py reads it)


async def test_a_page_allows_exactly_its_own_inline_scripts(user: User) -> None:
    response = await user.http_client.get("/login")

    policy = assert_defended(response)
    inline = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", response.text)
    hashes = re.findall(r"'sha256-[A-Za-z0-9+/=]+'", directive(policy, "script-src"))
    assert inline
    assert len(hashes) == len(set(hashes)) <= len(inline)
    assert "js.stripe.com" not in policy  # the sandbox gateway needs no Stripe


@pytest.mark.parametrize(
    "path",
    [
        f"/_nicegui/{nicegui_version}/static/nicegui.js",  # a static asset
        "/api/v1/clients",  # the REST API (401 without a key)
        "/",  # a redirect to the sign-in
        "/branding/logo",
    ],
)
async def test_assets_api_answers_and_redirects_carry_them_too(user: User, path: str) -> None:
    response = await user.http_client.get(path)

    assert_defended(response)


async def test_a_pdf_may_be_framed_by_the_portals_own_pages_only(user: User) -> None:
    await post_login(user)
    with portal.current().db.reading() as session:
        public_id = session.scalars(select(Invoice.public_id).where(Invoice.status == "sent")).first()

    response = await user.http_client.get(f"/invoices/{public_id}/pdf")

    assert response.headers["content-type"] == "application/pdf"
    assert_defended(response, framed_by_us=True)


async def test_the_503_page_and_a_413_carry_them(short_busy_timeout, user: User, demo_portal_env) -> None:
    with sqlite_lock(demo_portal_env / "portal.db"):
        unavailable = await post_login(user)
    assert unavailable.status_code == 503
    assert_defended(unavailable)

    too_large = await user.http_client.post("/auth/login", content=b"x" * 100_000)
    assert too_large.status_code == 413
    assert_defended(too_large)


@pytest.fixture
def https_portal(monkeypatch):
    monkeypatch.setenv("PORTAL_BASE_URL", "https://billing.example.com")  # (listed before ``user``)


async def test_under_https_browsers_are_told_to_keep_to_it(https_portal, user: User) -> None:
    for path in ("/login", "/api/v1/clients"):
        response = await user.http_client.get(path)
        assert response.headers["strict-transport-security"] == "max-age=31536000"


@pytest.fixture
def stripe_gateway(monkeypatch):
    monkeypatch.setenv("PORTAL_STRIPE_SECRET_KEY", "sk_test_headers")
    monkeypatch.setenv("PORTAL_STRIPE_PUBLISHABLE_KEY", "pk_test_headers")
    monkeypatch.setenv("PORTAL_STRIPE_WEBHOOK_SECRET", "whsec_headers")
    monkeypatch.setenv("PORTAL_STRIPE_JS_URL", "http://127.0.0.1:8420/js.stripe.com/v3/")


async def test_with_stripe_on_its_script_frame_and_api_origins_are_allowed(
    stripe_gateway, user: User
) -> None:
    policy = assert_defended(await user.http_client.get("/login"))

    local = "http://127.0.0.1:8420"  # the configured Stripe.js (localstripe's in the tests)
    assert local in directive(policy, "script-src")
    assert "https://js.stripe.com" in directive(policy, "script-src")
    assert {"https://js.stripe.com", "https://hooks.stripe.com", local} <= set(
        directive(policy, "frame-src").split()
    )
    assert {"https://api.stripe.com", local} <= set(directive(policy, "connect-src").split())
