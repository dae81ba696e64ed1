"""Two ``python app.py --demo`` on one PostgreSQL database behind HAProxy, run from deploy/haproxy.cfg itself
(its addresses come from environment variables, which the test sets to its own ports), in real Chromium:

- a customer signs in through the balancer, and every request of that browser, the page's websocket
  included, goes to the one instance the sticky cookie names;
- a payment made on instance A reaches a Home page open on instance B within 2 seconds;
- the owner switches the gateway in Settings > Payments on A, and B's Pay page follows;
- each e-mail is delivered once, though both instances' senders work on one outbox.

The instances believe forwarded headers from the balancer only (PORTAL_TRUSTED_PROXIES=127.0.0.1), and
send their e-mail to an SMTP server (aiosmtpd) on loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select, text

from models import OutboxEmail
from services.clock import utc_now
from services.database import Database, make_engine
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD
from services.gateways.sandbox import SANDBOX_NOTICE
from services.outbox import FAILED, SENT, queue_email
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.instances import Instance, instances, wait_until_ready
from tests.portal_process import ROOT, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
CONFIG = ROOT / "deploy" / "haproxy.cfg"
SERVERS = ("portal1", "portal2")  # the cookie values deploy/haproxy.cfg gives instance A and B
LIVE_SECONDS = 2.0
QUEUED = 12

pytestmark = [
    pytest.mark.skipif(
        not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
    ),
    pytest.mark.skipif(
        not os.access(HAPROXY, os.X_OK),
        reason="HAProxy is not installed (apt-get install haproxy; .ci/run does)",
    ),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Chromium not found at {CHROMIUM}: install Debian's chromium package (.ci/run does)",
    ),
]


class Inbox:
    """An aiosmtpd handler that keeps every message, for both instances."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Cluster:
    url: str  # the balancer's
    a: Instance
    b: Instance
    engine: Engine
    inbox: Inbox
    haproxy_log: Path

    def log_size(self) -> int:
        return self.haproxy_log.stat().st_size

    def routed_since(self, offset: int) -> list[tuple[str, str]]:
        """(server, request line) of each request HAProxy logged after ``offset``."""
        logged = self.haproxy_log.read_bytes()[offset:].decode(errors="replace")
        return re.findall(r" portals/(\S+) .*?\"([A-Z]+ \S+)", logged)


def _start_haproxy(listen: str, a: Instance, b: Instance, log: Path) -> subprocess.Popen[bytes]:
    """deploy/haproxy.cfg itself, its addresses set by the environment variables it reads."""
    environment = dict(os.environ) | {
        "PORTAL_LISTEN": listen,
        "PORTAL_A": f"127.0.0.1:{a.port}",
        "PORTAL_B": f"127.0.0.1:{b.port}",
    }
    checked = subprocess.run(
        [HAPROXY, "-c", "-f", str(CONFIG)], env=environment, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with log.open("wb") as output:
        return subprocess.Popen(
            [HAPROXY, "-db", "-f", str(CONFIG)], env=environment, stdout=output, stderr=subprocess.STDOUT
        )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("balanced")
    database_url = postgres_test_url("balancer")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    smtp.start()
    listen = f"127.0.0.1:{free_port()}"
    url = f"http://{listen}"
    settings = {
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": Fernet.generate_key().decode(),  # instances on one database share it
        "PORTAL_TRUSTED_PROXIES": "127.0.0.1",
        "PORTAL_BASE_URL": url,
        "PORTAL_BCRYPT_ROUNDS": "4",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(smtp.port),
        "PORTAL_SMTP_SECURITY": "none",
        "PORTAL_SMTP_FROM": "Northwind Design Studio <billing@northwind.example>",
        "PORTAL_STRIPE_JS_URL": "http://127.0.0.1:9/v3/",  # once Stripe is chosen: nothing from the Internet
    }
    haproxy: subprocess.Popen[bytes] | None = None
    try:
        with instances(2, base, settings=settings, demo=True) as (a, b):
            wait_until_ready([a, b])
            log = base / "haproxy.log"
            haproxy = _start_haproxy(listen, a, b, log)
            _wait_for_balancer(url, haproxy, log)
            yield Cluster(url, a, b, engine, inbox, log)
            for instance in (a, b):
                assert "Traceback" not in instance.log(), instance.log()
    finally:
        if haproxy is not None:
            haproxy.terminate()
            haproxy.wait(timeout=10)
        smtp.stop()
        engine.dispose()


def _wait_for_balancer(url: str, haproxy: subprocess.Popen[bytes], log: Path) -> None:
    """Until the balancer answers and has sent a request to each instance."""
    seen: set[str] = set()
    deadline = time.monotonic() + 20
    while seen != set(SERVERS):
        if haproxy.poll() is not None:
            pytest.fail(f"haproxy exited:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the balancer reached only {sorted(seen)}:\n{log.read_text()}")
        try:
            answer = httpx.get(f"{url}/readyz", timeout=2)
            if answer.status_code == 200:
                seen.add(answer.cookies.get("SERVERID") or "")
        except httpx.TransportError:
            time.sleep(0.2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def pinned(browser: Any, cluster: Cluster, server: str | None) -> Any:
    """A browser context through the balancer; pinned to one instance by its cookie when ``server``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if server:
        context.add_cookies([{"name": "SERVERID", "value": server, "url": cluster.url}])
    return context


def sign_in(page: Any, url: str, login_path: str, email: str, password: str) -> None:
    page.goto(f"{url}{login_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".q-drawer", state="attached")


def outstanding(page: Any) -> str:
    return page.locator("[data-testid=outstanding-invoices] .figure-amount").inner_text().strip()


def test_two_instances_behind_haproxy(cluster, browser):
    """One test, so that one worker starts the instances and the balancer (pytest-xdist spreads tests)."""
    sign_in_through_the_balancer_stays_on_one_instance(cluster, browser)
    a_payment_on_a_reaches_a_page_open_on_b(cluster, browser)
    a_gateway_saved_on_a_is_the_pay_page_s_on_b(cluster, browser)
    each_email_is_delivered_once(cluster)  # the receipt of the payment above among them


def sign_in_through_the_balancer_stays_on_one_instance(cluster: Cluster, browser: Any) -> None:
    offset = cluster.log_size()
    context = pinned(browser, cluster, None)
    page = context.new_page()
    page.goto(f"{cluster.url}/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("input[name=email]", CUSTOMER_EMAIL)
    page.fill("input[name=password]", CUSTOMER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Outstanding Invoices")
    server = next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "SERVERID")
    assert server in SERVERS
    # Pages that need their websocket: a sidebar link, and the invoice list's table filled over it.
    page.locator(".q-drawer a[href='/invoices']").first.click()
    page.wait_for_url("**/invoices")
    page.wait_for_selector("text=INV-")
    context.close()
    time.sleep(0.5)  # HAProxy logs a websocket when it closes

    routed = cluster.routed_since(offset)
    assert {where for where, _ in routed} == {server}, routed
    requests = [request for _, request in routed]
    assert any(
        "/_nicegui_ws/socket.io/" in request and "transport=websocket" in request for request in requests
    )
    assert any(request.startswith("POST /auth/login") for request in requests)


def a_payment_on_a_reaches_a_page_open_on_b(cluster: Cluster, browser: Any) -> None:
    watcher = pinned(browser, cluster, SERVERS[1])
    on_b = watcher.new_page()
    sign_in(on_b, cluster.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    on_b.wait_for_selector("text=Outstanding Invoices")
    owed = outstanding(on_b)
    assert owed != "$0.00"

    payer = pinned(browser, cluster, SERVERS[0])
    on_a = payer.new_page()
    sign_in(on_a, cluster.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    on_a.wait_for_selector("text=Outstanding Invoices")
    on_a.get_by_role("button", name="Pay Now").click()
    on_a.wait_for_selector("text=What you are paying")
    on_a.fill("[aria-label='Card number']", "4242 4242 4242 4242")
    on_a.fill("[aria-label='Expiry (MM/YY)']", "12/30")
    on_a.fill("[aria-label='CVV']", "123")
    on_a.fill("[aria-label='Name on card']", "Dana Demo")
    # The card pays what the credits and retainer, used first, leave of it: the amount the button names.
    pay = on_a.get_by_role("button", name=re.compile(r"^Pay \$[\d,.]+$"))
    charged = pay.inner_text().strip().removeprefix("Pay ")
    pay.click()
    on_a.wait_for_selector(f"text=Thank you! Payment received: {charged}.")
    paid = time.monotonic()

    on_b.wait_for_function(
        "() => document.querySelector('[data-testid=outstanding-invoices] .figure-amount')"
        "?.innerText.trim() === '$0.00'",
        timeout=LIVE_SECONDS * 1000,
    )
    assert time.monotonic() - paid < LIVE_SECONDS
    assert _server_of(watcher) == SERVERS[1]
    assert _server_of(payer) == SERVERS[0]
    payer.close()
    watcher.close()


def a_gateway_saved_on_a_is_the_pay_page_s_on_b(cluster: Cluster, browser: Any) -> None:
    customer = pinned(browser, cluster, SERVERS[1])
    on_b = customer.new_page()
    sign_in(on_b, cluster.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    on_b.goto(f"{cluster.url}/pay")
    on_b.wait_for_selector(".q-drawer", state="attached")
    assert on_b.get_by_text(SANDBOX_NOTICE).is_visible()

    owner = pinned(browser, cluster, SERVERS[0])
    on_a = owner.new_page()
    sign_in(on_a, cluster.url, "/admin/login", OWNER_EMAIL, OWNER_PASSWORD)
    on_a.goto(f"{cluster.url}/admin/settings/payments")
    on_a.get_by_text("Stripe", exact=True).click()
    on_a.get_by_label("Secret key (sk_… or rk_…)").fill("sk_test_balancer1234")
    on_a.get_by_label("Publishable key (pk_…)").fill("pk_test_balancer5678")
    on_a.get_by_label("Webhook signing secret (whsec_…)").fill("whsec_balancer9999")
    gateway_card = on_a.locator(".q-card", has=on_a.get_by_label("Secret key (sk_… or rk_…)"))
    gateway_card.get_by_role("button", name="Save").click()  # the gateway's (the page has a Save per card)
    on_a.wait_for_selector("text=Saved. Payments now go through Stripe.")
    saved = time.monotonic()

    # B's next Pay page is Stripe's: no sandbox notice, no card fields of the sandbox's own.
    while True:
        on_b.goto(f"{cluster.url}/pay")
        on_b.wait_for_selector(".q-drawer", state="attached")
        if on_b.get_by_text(SANDBOX_NOTICE).count() == 0:
            break
        assert time.monotonic() - saved < LIVE_SECONDS, "B's Pay page still offers the sandbox"
        time.sleep(0.2)
    assert _server_of(customer) == SERVERS[1]
    owner.close()
    customer.close()


def each_email_is_delivered_once(cluster: Cluster) -> None:
    db = Database(cluster.engine)
    with db.transaction() as session:
        for number in range(QUEUED):
            queue_email(
                session,
                to=[f"customer{number}@client.example"],
                subject=f"Balanced message {number}",
                body_text="Sent by one instance of two.",
                now=utc_now(),
            )
    deadline = time.monotonic() + 30
    while True:
        with db.reading() as session:
            waiting = session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status.not_in([SENT, FAILED]))
            )
            sent = session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == SENT)
            )
        if not waiting:
            break
        assert time.monotonic() < deadline, f"{waiting} messages still waiting in the outbox"
        time.sleep(0.5)

    time.sleep(1)  # a second delivery, if there were one, would have arrived by now
    messages = list(cluster.inbox.messages)
    assert len(messages) == sent
    assert max(Counter(message["Message-ID"] for message in messages).values()) == 1
    subjects = Counter(str(message["Subject"]) for message in messages)
    assert all(subjects[f"Balanced message {number}"] == 1 for number in range(QUEUED))
    assert any("receipt" in subject.lower() for subject in subjects), subjects  # the payment's, above


def _server_of(context: Any) -> str:
    return next(cookie["value"] for cookie in context.cookies() if cookie["name"] == "SERVERID")
