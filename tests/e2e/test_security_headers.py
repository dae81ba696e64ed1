"""In Chromium, under the portal's Content-Security-Policy: every page runs with no violation, an inline
script the page did not come with is refused, and another site cannot frame the portal."""

from __future__ import annotations

import functools
import http.server
import threading

import pytest

from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD
from tests.portal_process import free_port

pytestmark = pytest.mark.e2e

# Every violation the page reports, and every console line the browser writes about one.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => window.__violations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sample || ''}`));
"""
PUBLIC_PAGES = ("/login", "/forgot-password", "/admin/login", "/set-password?token=unknown")
CUSTOMER_PAGES = ("/", "/invoices", "/payments", "/statement", "/password")
# (a page listing them, the link to one) for the pages of one document
CUSTOMER_DETAILS = (("/invoices", "a[href^='/invoices/']"), ("/payments", "a[href^='/payments/']"))
ADMIN_PAGES = (
    "/admin",
    "/admin/clients",
    "/admin/clients/new",
    "/admin/invoices",
    "/admin/invoices/new",
    "/admin/credit-notes",
    "/admin/payments",
    "/admin/refunds",
    "/admin/conversations",
    "/admin/settings",
    "/admin/settings/documents",
    "/admin/settings/payments",
    "/admin/settings/email",
    "/admin/settings/staff",
    "/admin/settings/api-keys",
    "/admin/settings/backups",
)
ADMIN_DETAILS = (
    ("/admin/clients", "a[href^='/admin/clients/']:not([href$='/new'])"),
    ("/admin/invoices", "a[href^='/admin/invoices/']:not([href$='/new'])"),
)


class Watched:
    """A page whose CSP violations are collected, from its console and from the violation events."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.add_init_script(WATCH)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda message: self.console.append(message.text))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.settle()

    def settle(self) -> None:
        """Wait until the page is drawn and its socket connected: its scripts have all run by then."""
        self.page.wait_for_function(
            "window.socket?.connected && document.querySelector('#app .q-layout, #app *')"
        )
        self.page.wait_for_timeout(300)  # what the first messages over the socket run

    def violations(self) -> list[str]:
        reported = self.page.evaluate("window.__violations")
        logged = [line for line in self.console if "Content Security Policy" in line]
        return [*reported, *logged]

    def sign_in(self, url: str, login_path: str, email: str, password: str) -> None:
        self.page.goto(f"{url}{login_path}")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector(".q-drawer", state="attached")
        self.settle()


def visit_all(
    watched: Watched, url: str, pages: tuple[str, ...], details: tuple[tuple[str, str], ...]
) -> None:
    for path in pages:
        watched.open(f"{url}{path}")
        assert watched.violations() == [], path
    for listing, link in details:
        watched.open(f"{url}{listing}")
        watched.page.locator(link).first.click()
        watched.page.wait_for_url(lambda address, listing=listing: address != f"{url}{listing}")
        watched.settle()
        assert watched.violations() == [], watched.page.url


def test_every_page_runs_under_the_policy_without_a_violation(demo_portal, browser):
    public = Watched(browser)
    visit_all(public, demo_portal.url, PUBLIC_PAGES, ())
    public.context.close()

    customer = Watched(browser)
    customer.sign_in(demo_portal.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    customer.page.wait_for_selector("text=Outstanding Invoices")  # drawn by Vue: eval is allowed
    visit_all(customer, demo_portal.url, CUSTOMER_PAGES, CUSTOMER_DETAILS)
    customer.open(f"{demo_portal.url}/")
    customer.page.get_by_role("button", name="Pay Now").click()
    customer.page.wait_for_selector("text=Card number")
    customer.settle()
    assert customer.violations() == []
    customer.context.close()

    owner = Watched(browser)
    owner.sign_in(demo_portal.url, "/admin/login", OWNER_EMAIL, OWNER_PASSWORD)
    visit_all(owner, demo_portal.url, ADMIN_PAGES, ADMIN_DETAILS)
    owner.context.close()


def test_an_inline_script_the_page_did_not_come_with_is_refused(demo_portal, browser):
    watched = Watched(browser)
    watched.open(f"{demo_portal.url}/login")

    # what a stored XSS would try: an event handler attribute, and a script added to the page
    watched.page.evaluate(
        """() => {
            document.body.insertAdjacentHTML('beforeend', '<img src="/nowhere" onerror="window.__ran = 1">');
            const script = document.createElement('script');
            script.textContent = 'window.__ran = 2';
            document.body.append(script);
        }"""
    )
    watched.page.wait_for_function("window.__violations.length >= 2")

    assert watched.page.evaluate("window.__ran") is None
    assert all(
        violation.startswith("script-src") for violation in watched.page.evaluate("window.__violations")
    )
    watched.context.close()


def test_another_site_cannot_frame_the_portal(demo_portal, browser, tmp_path):
    # another origin (a server of its own, on another port) with a page that frames the sign-in and Settings
    (tmp_path / "index.html").write_text(
        f"""<!doctype html><iframe name="login" src="{demo_portal.url}/login"></iframe>
        <iframe name="settings" src="{demo_portal.url}/admin/settings"></iframe>"""
    )
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    attacker = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"http://localhost:{attacker.server_address[1]}/index.html")
        page.wait_for_timeout(2000)  # both frames have had their answer

        for name in ("login", "settings"):
            frame = page.frame(name=name)
            assert frame is not None
            assert frame.url.startswith("chrome-error://"), (
                frame.url
            )  # refused: Chromium's error page instead
    finally:
        context.close()
        attacker.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


def test_the_portals_own_print_frame_may_load_a_pdf(demo_portal, browser):
    watched = Watched(browser)
    watched.sign_in(demo_portal.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    watched.open(f"{demo_portal.url}/invoices")
    pdf = watched.page.locator("a[href^='/invoices/']").first.get_attribute("href") + "/pdf"

    refusals: list[str] = []
    watched.page.on(
        "console", lambda message: refusals.append(message.text) if "Refused" in message.text else None
    )
    with watched.page.expect_response(lambda response: response.url.endswith(pdf)) as answer:
        watched.page.evaluate(
            "(src) => { const f = document.createElement('iframe'); f.src = src; document.body.append(f); }",
            pdf,
        )
    response = answer.value

    assert response.status == 200
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    watched.page.wait_for_timeout(1000)
    frame = next(frame for frame in watched.page.frames if frame.url.endswith(pdf))
    assert not frame.url.startswith("chrome-error://")
    assert refusals == []
    watched.context.close()


def test_the_stripe_card_form_runs_under_the_policy(stripe_portal, browser):
    watched = Watched(browser)
    watched.sign_in(stripe_portal.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    watched.open(f"{stripe_portal.url}/")
    watched.page.get_by_role("button", name="Pay Now").click()
    # the configured Stripe.js (localstripe's) loaded and mounted its card element
    watched.page.locator("[data-testid=stripe-card]").get_by_placeholder("number").wait_for()
    watched.settle()

    assert watched.violations() == []
    watched.context.close()
