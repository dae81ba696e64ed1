"""End-to-end fixtures: the real portal as a subprocess, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal_process import RunningPortal, free_port, running_portal

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
STRIPE_WEBHOOK_SECRET = "whsec_portal_e2e"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("portal-data")) as portal:
        yield portal


@pytest.fixture(scope="module")
def stripe_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """The demo portal with the Stripe gateway, against a private localstripe and its fake Stripe.js."""
    from tests.integration.localstripe_server import start_localstripe

    stripe = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    port = free_port()
    try:
        stripe.configure_webhook(f"http://127.0.0.1:{port}/api/webhooks/stripe", STRIPE_WEBHOOK_SECRET)
        settings = {
            "PORTAL_STRIPE_SECRET_KEY": "sk_test_portal_e2e",
            "PORTAL_STRIPE_PUBLISHABLE_KEY": "pk_test_portal_e2e",
            "PORTAL_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            "PORTAL_STRIPE_API_BASE": stripe.api_base,
            "PORTAL_STRIPE_JS_URL": stripe.js_url,
        }
        with running_portal(
            tmp_path_factory.mktemp("stripe-portal-data"), port=port, settings=settings
        ) as portal:
            yield portal
    finally:
        stripe.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
