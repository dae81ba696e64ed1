"""axe-core finds nothing on any page or dialog a customer sees, at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from models import Invoice, Organization, PortalUser
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OTHER_CUSTOMER_EMAIL
from services.gateways.base import BillingAddress, MethodInfo, MethodKind
from services.invoices import PAYABLE_STATUSES
from services.pay_links import issue_pay_link
from services.saved_methods import store_method
from tests.e2e.accessibility import (
    WIDTHS,
    DialogCase,
    axe_violations,
    click_button,
    first_link,
    portal_database,
    report,
    scan_dialogs,
    scan_pages,
    settle,
    sign_in_customer,
)

pytestmark = pytest.mark.e2e

SIGNED_OUT = ["/login", "/login?error=invalid", "/forgot-password", "/set-password?token=no-such-link"]
SIGNED_IN = ["/", "/invoices", "/payments", "/statement", "/password", "/pay"]


def forward_from_the_menu(page) -> None:
    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name="Forward").click()


def open_first_card_edit(page) -> None:
    page.locator("[data-testid=card-details]").get_by_role("button", name="Edit", exact=True).first.click()


@pytest.fixture(scope="module")
def saved_card(demo_portal) -> None:
    """A card the demo customer saved when paying (kept as the sandbox keeps one): Home's Card Details
    then offers Edit and Remove."""
    card = MethodInfo(
        "pm_sandbox_accessibility",
        MethodKind.CARD,
        "Visa",
        "4242",
        exp_month=12,
        exp_year=datetime.now(UTC).year + 3,
        holder_name="Dana Demo",
        billing_address=BillingAddress("18 Harbor Road", "", "Oakland", "CA", "94607", "US"),
    )
    with portal_database(demo_portal.data_dir) as db, db.transaction() as session:
        client_id = session.scalars(
            select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        store_method(session, client_id, "sandbox", card, "cus_sandbox_accessibility", datetime.now(UTC))


def credit_note_link(page, url: str) -> str:
    """The demo's credit note, linked from Home's Available Credits (drawn once the page is connected)."""
    page.goto(f"{url}/")
    link = page.locator("a[href^='/credit-notes/']").first
    link.wait_for()
    return str(link.get_attribute("href"))


HOME_DIALOGS = [
    DialogCase("Send Email", "/", click_button("Send Email")),
    DialogCase("Review", "/", click_button("Review")),
    DialogCase("Edit account details", "/", click_button("Edit account details")),
    DialogCase("Edit addresses", "/", click_button("Edit addresses")),
    DialogCase("Apply to Invoice", "/", click_button("Apply to Invoice")),
    DialogCase("Request Refund", "/", click_button("Request Refund")),
    DialogCase("Edit saved card", "/", open_first_card_edit),
    DialogCase("Remove saved card", "/", click_button("Remove")),
    DialogCase("Turn on auto-pay", "/", lambda page: page.get_by_role("switch", name="Auto-pay").click()),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_customer_pages_and_dialogs_have_no_axe_violations(demo_portal, browser, width, saved_card):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    found = scan_pages(page, demo_portal.url, SIGNED_OUT, width)

    sign_in_customer(page, demo_portal.url)
    invoice = first_link(page, demo_portal.url, "/invoices", "/invoices/")
    payment = first_link(page, demo_portal.url, "/payments", "/payments/")
    credit_note = credit_note_link(page, demo_portal.url)
    found += scan_pages(page, demo_portal.url, [*SIGNED_IN, invoice, payment, credit_note], width)

    dialogs = [*HOME_DIALOGS, DialogCase("Forward", invoice, forward_from_the_menu)]
    found += scan_dialogs(page, demo_portal.url, dialogs, width)
    page.goto(f"{demo_portal.url}/")
    settle(page)
    context.close()
    assert not found, report(found)


def new_pay_link(data_dir) -> str:
    """A link to the demo customer's oldest invoice still to pay, as its e-mail would carry it."""
    with portal_database(data_dir) as db, db.transaction() as session:
        client_id = session.scalars(
            select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client_id, Invoice.status.in_(PAYABLE_STATUSES))
            .where(Invoice.balance_due_minor > 0)
            .order_by(Invoice.due_date, Invoice.id)
        ).first()
        assert invoice is not None
        return issue_pay_link(session, invoice, now=datetime.now(UTC))[0]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pay_link_page_its_forms_and_its_receipt_have_no_axe_violations(demo_portal, browser, width):
    """With no session: the invoice and the card form (the brand named beside the number), the bank
    account form, and, once paid, the receipt to download and where it is e-mailed."""
    page = browser.new_context(viewport=WIDTHS[width]).new_page()
    page.goto(f"{demo_portal.url}/pay-link?token={new_pay_link(demo_portal.data_dir)}")
    settle(page)
    page.get_by_label("Card number").press_sequentially("4242424242424242")
    page.get_by_text("Visa", exact=True).wait_for()
    found = axe_violations(page, f"{width} pay link, card form")
    page.get_by_text("New bank account", exact=True).click()
    page.get_by_label("IBAN").wait_for()
    found += axe_violations(page, f"{width} pay link, bank account form")
    page.get_by_text("New card", exact=True).click()
    page.get_by_label("Expiry (MM/YY)").fill("1230")
    page.get_by_label("CVV").fill("123")
    page.get_by_label("Name on card").fill("Dana Demo")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Download receipt").wait_for(timeout=20_000)
    page.wait_for_timeout(200)
    found += axe_violations(page, f"{width} pay link, paid")
    page.context.close()
    assert not found, report(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_pay_nows_choices_a_refused_amount_and_credits_alone_have_no_axe_violations(
    demo_portal, browser, width
):
    """Pay Now's invoices, each check box named by its number, with an amount refused as it is typed
    (its reason tied to its field), then a choice the credits cover in full, with no payment method to
    fill in. Nothing is paid."""
    page = browser.new_context(viewport=WIDTHS[width]).new_page()
    sign_in_customer(page, demo_portal.url)
    page.goto(f"{demo_portal.url}/pay")
    settle(page)
    boxes = page.get_by_role("checkbox", name=re.compile(r"^INV-\d+$"))
    numbers = [str(boxes.nth(index).text_content()).strip() for index in range(boxes.count())]
    assert len(numbers) > 1
    amount = page.get_by_label(f"Amount for {numbers[0]}")
    amount.fill("99999")
    page.get_by_text("is more than the", exact=False).wait_for()
    assert amount.get_attribute("aria-invalid") == "true"
    found = axe_violations(page, f"{width} Pay Now, an amount refused")
    amount.fill("1.00")
    for number in numbers[1:]:
        page.get_by_role("checkbox", name=number, exact=True).click()
    page.get_by_role("button", name="Pay $1.00 with your credits").wait_for()
    found += axe_violations(page, f"{width} Pay Now, credits alone")
    page.context.close()
    assert not found, report(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_euro_invoice_with_its_payment_qr_code_has_no_axe_violations(demo_portal, browser, width):
    """The bank transfer part of a euro invoice: the EPC QR code, an image named by its alt text, beside the
    business's account, and the tax numbers under the parties; on a phone nothing runs off the page."""
    with portal_database(demo_portal.data_dir) as db, db.transaction() as session:
        session.execute(
            update(Organization).values(
                iban="DE89370400440532013000",
                bic="COBADEFFXXX",
                bank_name="Commerzbank",
                tax_id="DE123456789",
            )
        )
        invoice = session.scalars(
            select(Invoice.public_id)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(
                PortalUser.email == OTHER_CUSTOMER_EMAIL,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.balance_due_minor > 0,
            )
            .order_by(Invoice.due_date)
        ).first()
    assert invoice is not None
    page = browser.new_context(viewport=WIDTHS[width]).new_page()
    try:
        page.goto(f"{demo_portal.url}/login")
        page.fill("input[name=email]", OTHER_CUSTOMER_EMAIL)
        page.fill("input[name=password]", CUSTOMER_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{demo_portal.url}/")
        found = scan_pages(page, demo_portal.url, [f"/invoices/{invoice}"], width)
        code = page.get_by_role("img", name=re.compile(r"^QR code to pay €[\d.,]+ by bank transfer$"))
        code.wait_for()
        box = code.bounding_box()
        assert box is not None
        assert box["width"] >= 120  # big enough for a phone's camera
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_text("DE89 3704 0044 0532 0130 00").wait_for()
    finally:
        page.context.close()
        with portal_database(demo_portal.data_dir) as db, db.transaction() as session:
            session.execute(update(Organization).values(iban="", bic="", bank_name="", tax_id=""))
    assert not found, report(found)
