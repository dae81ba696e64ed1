"""With the keyboard alone, in Chromium: sign in, pay with a new card (keeping the retainer for later),
download the statement, sign out.

No click and no fill: Tab and Shift+Tab move, Enter and Space act, and text is typed key by key.
"""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from services.money import format_money
from tests.e2e.accessibility import DESKTOP
from tests.e2e.test_sign_in_journey import expected_balances

pytestmark = pytest.mark.e2e

# The focused element's accessible name, as far as a person hears it for these controls.
FOCUSED_NAME = """() => {
    const element = document.activeElement;
    if (!element || element === document.body) return '';
    if (element.getAttribute('aria-label')) return element.getAttribute('aria-label').trim();
    const copy = element.cloneNode(true);  // its words without the icons, which a screen reader skips
    copy.querySelectorAll('[aria-hidden=true]').forEach((hidden) => hidden.remove());
    return (copy.textContent || element.value || '').trim();
}"""


def tab_to(page, name: str, *, most: int = 80, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the control named ``name`` has the focus."""
    for _ in range(most):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(FOCUSED_NAME) == name:
            return
    raise AssertionError(f"{name!r} is not reached with the Tab key")


def type_into(page, name: str, text: str) -> None:
    tab_to(page, name)
    page.keyboard.type(text)


def test_sign_in_pay_with_a_new_card_download_the_statement_and_sign_out(demo_portal, browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{demo_portal.url}/login")
    page.wait_for_selector("input[name=email]")

    # The e-mail field has the focus when the page opens.
    assert page.evaluate(FOCUSED_NAME) == "Email"
    page.keyboard.type(CUSTOMER_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(CUSTOMER_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo_portal.url}/")
    page.wait_for_selector("text=Outstanding Invoices")
    balances = expected_balances(demo_portal.data_dir)
    owed = format_money(balances.outstanding - balances.free_credits)  # the retainer is kept, below

    tab_to(page, "Pay Now")
    page.keyboard.press("Enter")
    page.wait_for_url("**/pay**")
    tab_to(page, f"Use {format_money(balances.free_retainer)} of retainer payments")
    page.keyboard.press("Space")  # unticked: only the credits go first
    type_into(page, "Card number", "4242 4242 4242 4242")
    type_into(page, "Expiry (MM/YY)", "12/30")
    type_into(page, "CVV", "123")
    type_into(page, "Name on card", "Dana Demo")
    tab_to(page, f"Pay {owed}")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Thank you! Payment received: {owed}.", timeout=30_000)

    tab_to(page, "Back to Home", backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo_portal.url}/")
    page.wait_for_selector("text=Outstanding Invoices")
    tab_to(page, "Statement of Accounts")
    page.keyboard.press("Enter")
    page.wait_for_url("**/statement**")
    page.wait_for_selector("text=Closing balance")
    tab_to(page, "Download PDF")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    text = PdfReader(download_info.value.path()).pages[0].extract_text()
    assert "Statement of Accounts" in text

    tab_to(page, "Logout")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=You have signed out.")
    context.close()
