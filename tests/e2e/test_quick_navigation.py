"""Pages left as soon as they open log nothing, and the sidebar still opens beside the page or as a drawer.

The sidebar's drawer used to ask the browser for its state once the page connected and wait a second for
the answer; a page left sooner logged "JavaScript did not respond within 1.0 s" with a traceback.
"""

from __future__ import annotations

import time

import pytest

from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD

pytestmark = pytest.mark.e2e

CUSTOMER_PAGES = ("/", "/invoices", "/payments", "/statement", "/password")
ADMIN_PAGES = ("/admin", "/admin/clients", "/admin/invoices", "/admin/payments", "/admin/conversations")


def sign_in(page, url: str, login_path: str, email: str, password: str) -> None:
    page.goto(f"{url}{login_path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".q-drawer", state="attached")


def leave_each_page_at_once(page, url: str, paths: tuple[str, ...]) -> None:
    for _ in range(3):
        for path in paths:
            page.goto(f"{url}{path}", wait_until="commit")
            time.sleep(0.3)  # long enough for the page to connect, far shorter than NiceGUI's 1 s wait
    page.goto(f"{url}{paths[0]}")
    page.wait_for_selector(".q-drawer", state="attached")
    time.sleep(1.5)  # whatever waited for an answer has given up by now


@pytest.mark.parametrize(
    ("login_path", "email", "password", "paths"),
    [
        ("/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD, CUSTOMER_PAGES),
        ("/admin/login", OWNER_EMAIL, OWNER_PASSWORD, ADMIN_PAGES),
    ],
    ids=["customer", "back-office"],
)
def test_pages_left_at_once_log_no_javascript_time_outs(
    demo_portal, browser, login_path, email, password, paths
):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, demo_portal.url, login_path, email, password)
    logged_before = demo_portal.output.read_text()

    leave_each_page_at_once(page, demo_portal.url, paths)

    logged = demo_portal.output.read_text()[len(logged_before) :]
    assert "JavaScript did not respond" not in logged
    assert "Traceback" not in logged
    page.close()


def test_the_sidebar_is_beside_the_page_on_a_desktop_and_a_drawer_on_a_phone(demo_portal, browser):
    payments_link = '.q-drawer a[href="/payments"]'
    desktop = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(desktop, demo_portal.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    desktop.locator(payments_link).wait_for(state="visible", timeout=5000)
    assert desktop.get_by_role("button", name="Open navigation").is_hidden()
    desktop.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(phone, demo_portal.url, "/login", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)
    phone.get_by_role("button", name="Open navigation").wait_for(state="visible", timeout=5000)
    time.sleep(0.5)  # the drawer would have opened by now
    assert phone.locator(payments_link).is_hidden()
    phone.get_by_role("button", name="Open navigation").click()
    phone.locator(payments_link).click()
    phone.wait_for_url(f"{demo_portal.url}/payments")
    phone.get_by_role("button", name="Open navigation").wait_for(state="visible", timeout=5000)
    time.sleep(0.5)
    assert phone.locator(payments_link).is_hidden()  # a new page starts with the drawer closed
    phone.close()
