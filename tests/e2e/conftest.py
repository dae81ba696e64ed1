"""End-to-end fixtures: the real portal as a subprocess, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
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


@dataclass(frozen=True)
class RunningPortal:
    url: str
    data_dir: Path
    output: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_portal(
    data_dir: Path, *, port: int = 0, settings: dict[str, str] | None = None, demo: bool = True
) -> Iterator[RunningPortal]:
    """``python app.py --demo`` on a free port with a fresh data folder, as a user would start it.

    ``demo=False`` starts it without ``--demo``: an empty portal that shows its first-run setup.
    """
    output = data_dir.parent / f"{data_dir.name}-output.txt"
    port = port or _free_port()
    # A clean environment: NiceGUI switches to test mode when it sees pytest's variables.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "PYTEST_", "NICEGUI_"))
    }
    environment.pop("DATABASE_URL", None)
    environment |= settings or {}
    flags = ["--demo"] if demo else []
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", *flags, "--port", str(port), "--data-dir", str(data_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the portal exited early:\n{output.read_text()}")
            try:
                # An empty portal answers /login with a redirect to its setup page.
                if httpx.get(f"{url}/login", timeout=2, follow_redirects=True).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the portal did not answer within 60 s:\n{output.read_text()}")
            time.sleep(0.3)
        yield RunningPortal(url, data_dir, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("portal-data")) as portal:
        yield portal


@pytest.fixture(scope="module")
def stripe_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    """The demo portal with the Stripe gateway, against a private localstripe and its fake Stripe.js."""
    from tests.integration.localstripe_server import start_localstripe

    stripe = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    port = _free_port()
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
