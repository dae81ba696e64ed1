"""In Chromium: Pay Now on Home, the credits and retainer used first; the card form groups the number as
it is typed and names its brand; a declined card changes nothing, credits included; the test card pays
the rest and everything is paid, and its receipt downloads at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from services.demo import CUSTOMER_EMAIL
from services.money import Money, format_money
from tests.e2e.test_sign_in_journey import card_amount, expected_balances, sign_in

pytestmark = pytest.mark.e2e


def test_pay_everything_by_card_from_home(demo_portal, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")
    outstanding = card_amount(page, "outstanding-invoices")
    assert outstanding != "$0.00"
    balances = expected_balances(demo_portal.data_dir)
    before = balances.outstanding
    assert format_money(before) == outstanding
    assert (balances.free_credits, balances.free_retainer) == (Money(12000, "USD"), Money(70000, "USD"))
    owed = format_money(before - balances.free_credits - balances.free_retainer)  # what the card pays

    page.get_by_role("button", name="Pay Now").click()
    page.wait_for_selector("text=What you are paying")
    assert page.get_by_text("Sandbox - no real money").is_visible()
    # Every unpaid invoice is ticked, and the credits and retainer are used first.
    assert page.get_by_role("checkbox", name="Use $120.00 of credits").is_checked()
    assert page.get_by_role("checkbox", name="Use $700.00 of retainer payments").is_checked()
    invoices = page.get_by_role("checkbox", name=re.compile(r"^INV-\d+$"))
    assert invoices.count() == 8
    assert all(invoices.nth(index).is_checked() for index in range(8))
    # The number is grouped as the card prints it, as it is typed; the brand is said beside it.
    card_number = page.get_by_label("Card number")
    card_number.press_sequentially("378282246310005")
    page.get_by_text("American Express", exact=True).wait_for()
    assert card_number.input_value().strip() == "3782 822463 10005"
    card_number.fill("")  # and straight away another brand's number, whole, before its mask comes back
    # A declined card first: the reason is shown and nothing is paid.
    page.fill("[aria-label='Card number']", "4000 0000 0000 0002")
    page.fill("[aria-label='Expiry (MM/YY)']", "12/30")
    page.fill("[aria-label='CVV']", "123")
    page.fill("[aria-label='Name on card']", "Dana Demo")
    page.get_by_role("button", name=f"Pay {owed}").click()
    page.wait_for_selector("text=Your card was declined.")
    declined = expected_balances(demo_portal.data_dir)
    assert (declined.outstanding, declined.free_credits, declined.free_retainer) == (
        before,
        balances.free_credits,
        balances.free_retainer,
    )

    page.fill("[aria-label='Card number']", "4242 4242 4242 4242")
    page.fill("[aria-label='Expiry (MM/YY)']", "1230")  # read as 12/30
    page.fill("[aria-label='CVV']", "123")
    page.fill("[aria-label='Name on card']", "Dana Demo")
    page.get_by_role("button", name=f"Pay {owed}").click()
    page.wait_for_selector(f"text=Thank you! Payment received: {owed}.")
    assert page.get_by_text("Credits used: $120.00").is_visible()
    assert page.get_by_text("Retainer payments used: $700.00").is_visible()
    receipt = page.get_by_text("Receipt RCPT-").inner_text().removeprefix("Receipt ").strip()
    assert page.get_by_text(f"We are e-mailing your receipt to {CUSTOMER_EMAIL}.").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download receipt").click()
    assert download_info.value.suggested_filename == f"Receipt-{receipt}.pdf"

    page.goto(f"{demo_portal.url}/")
    page.wait_for_selector("text=Outstanding Invoices")
    assert card_amount(page, "outstanding-invoices") == "$0.00"
    assert card_amount(page, "available-credits") == "$0.00"
    assert card_amount(page, "available-retainer") == "$0.00"
    assert card_amount(page, "last-payment") == owed

    # Payments Made lists it; its page downloads the receipt.
    page.locator("a[href='/payments']").first.click()
    link = page.get_by_role("link", name=receipt)
    # Its row names every invoice it paid, and still shows its amount without scrolling sideways.
    row = page.get_by_role("row").filter(has=link)
    amount = row.get_by_role("cell").last
    expect(amount).to_have_text(owed)
    table = page.locator(".q-table__middle").first
    assert amount.bounding_box()["x"] + amount.bounding_box()["width"] <= (
        table.bounding_box()["x"] + table.bounding_box()["width"] + 1
    )
    # Followed rather than clicked: the list may redraw as the payment's notice arrives, and a click on
    # the row it replaces goes nowhere.
    page.goto(f"{demo_portal.url}{link.get_attribute('href')}")
    page.wait_for_selector(f"text=Payment {receipt}")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"Receipt-{receipt}.pdf"
    text = PdfReader(download.path()).pages[0].extract_text()
    assert receipt in text
    assert owed in text
    assert "Sandbox - no real money" in text
    context.close()
