"""In Chromium, with the portal e-mailing through aiosmtpd on loopback: the business sends an invoice,
and whoever receives the e-mail pays it from the link in it, with no account and no sign-in: the card
number grouped as it is typed with its brand beside it, the billing address already there, and the
receipt to download on the spot and in the mailbox, with its PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from models import Client, Invoice, PortalUser
from services import secret_key
from services.demo import CUSTOMER_EMAIL
from services.invoice_emails import queue_invoice_sent_email
from services.invoices import PAYABLE_STATUSES
from tests.e2e.test_account_journeys import body_of, mail, portal_db, wait_for_mail  # noqa: F401 - mail is a fixture

pytestmark = pytest.mark.e2e

PAY_LINK = re.compile(r"https?://\S+/pay-link\?token=[A-Za-z0-9_\-]+")


def test_an_invoice_is_paid_from_the_link_in_its_email_without_an_account(mail, browser):  # noqa: F811
    portal, inbox = mail
    db = portal_db(portal)
    try:
        secret_key.install(portal.data_dir)  # the portal's: the link waits sealed under it
        with db.transaction() as session:
            client_id = session.scalars(
                select(Client.id).join(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            invoice = session.scalars(
                select(Invoice)
                .where(Invoice.client_id == client_id, Invoice.status.in_(PAYABLE_STATUSES))
                .order_by(Invoice.due_date)
            ).first()
            assert invoice is not None
            number = invoice.number
            client = session.get_one(Client, client_id)
            client_email, street = client.email, client.address_line1
            queue_invoice_sent_email(session, invoice, base_url=portal.url, now=datetime.now(UTC))
    finally:
        db.engine.dispose()
    message = wait_for_mail(inbox, CUSTOMER_EMAIL, number)
    found = PAY_LINK.search(body_of(message))
    assert found, body_of(message)

    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()  # no cookie at all
    page.goto(found.group(0))
    page.wait_for_selector(f"text=Invoice {number}")
    assert page.get_by_label("Billing address").input_value() == street  # the invoice's, already there
    card_number = page.get_by_label("Card number")
    card_number.press_sequentially("4242424242424242")  # grouped by the browser as it is typed
    assert card_number.input_value().strip() == "4242 4242 4242 4242"
    page.get_by_text("Visa", exact=True).wait_for()  # the brand, in words, beside the number
    page.fill("[aria-label='Expiry (MM/YY)']", "1230")
    page.fill("[aria-label='CVV']", "123")
    expect(page.get_by_label("Expiry (MM/YY)")).to_have_value("12/30")  # read back as the card prints it
    page.fill("[aria-label='Name on card']", "Pat Payer")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_selector("text=Thank you! Payment received", timeout=20_000)
    receipt = page.get_by_text("Receipt RCPT-").inner_text().removeprefix("Receipt ").strip()
    assert page.get_by_text(f"We are e-mailing your receipt to {client_email}.").is_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download receipt").click()
    download = download_info.value
    assert download.suggested_filename == f"Receipt-{receipt}.pdf"
    assert receipt in PdfReader(download.path()).pages[0].extract_text()
    assert page.get_by_role("button", name="Print receipt").is_visible()
    # And so it is: the receipt arrives, its PDF attached.
    mailed = wait_for_mail(inbox, client_email, receipt)
    (attachment,) = [
        part for part in mailed.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert receipt in PdfReader(BytesIO(attachment.get_content())).pages[0].extract_text()
    page.goto(found.group(0))  # paid: the link has done its work
    page.wait_for_selector("text=This invoice is paid. Thank you!")
    page.goto(f"{portal.url}/invoices")  # and it opened no session
    page.wait_for_url("**/login?**")
    context.close()
    token = found.group(0).rpartition("token=")[2]
    assert token not in portal.output.read_text()  # the portal's log never holds a link's token
