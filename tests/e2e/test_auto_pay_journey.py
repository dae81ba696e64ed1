"""Auto-pay, end to end in Chromium: the customer saves a card as they pay, turns auto-pay on with it after
reading the consent, a new invoice falls due, the running portal's scheduled auto-pay run charges it
through the sandbox, the customer sees it paid and the receipt arrives by e-mail (aiosmtpd on loopback).

The steps are small functions for other journeys (tests/e2e/test_quote_to_auto_pay_journey.py):
``customer``, ``save_a_card``, ``turn_on_auto_pay``, ``run_auto_pay_now``, ``paid_with_receipt``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AutoPayConsent, Client, Invoice, Organization, Payment, PortalUser
from services.auto_pay import AUTO_PAY_JOB
from services.database import Database
from services.dates import zone
from services.demo import CUSTOMER_EMAIL
from services.invoices import PAYABLE_STATUSES, create_invoice, send_invoice
from services.scheduler import arm
from services.totals import LineInput
from tests.e2e.accessibility import settle
from tests.e2e.test_account_journeys import body_of, mail, portal_db, wait_for_mail  # noqa: F401 - mail is a fixture
from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def customer(db: Database) -> tuple[int, int, str]:
    """The demo customer's client id, business id and business time zone."""
    with db.reading() as session:
        client = session.scalars(
            select(Client)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        time_zone = session.scalars(
            select(Organization.time_zone).where(Organization.id == client.organization_id)
        ).one()
        return client.id, client.organization_id, time_zone


def save_a_card(page, url: str, db: Database, client_id: int) -> None:
    """Pay the oldest open invoice with the test Visa, ticking "Save this card for future payments"."""
    with db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .where(
                Invoice.client_id == client_id,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.kind == "invoice",
            )
            .order_by(Invoice.due_date)
        ).first()
        assert invoice is not None
    page.goto(f"{url}/pay?invoice={invoice.public_id}")
    page.wait_for_selector("text=What you are paying")
    for source in ("credits", "retainer payments"):  # the card pays, so that it is saved
        box = page.get_by_role("checkbox", name=f" of {source}")
        if box.count() and box.first.is_checked():
            box.first.click()
    page.fill("[aria-label='Card number']", "4242 4242 4242 4242")
    page.fill("[aria-label='Expiry (MM/YY)']", "12/30")
    page.fill("[aria-label='CVV']", "123")
    page.fill("[aria-label='Name on card']", "Dana Demo")
    page.get_by_role("checkbox", name="Save this card for future payments").click()
    page.get_by_role("button", name="Pay $").click()
    page.wait_for_selector("text=Thank you! Payment received")


def turn_on_auto_pay(page, url: str) -> str:
    """Home > Card Details: the switch, the consent read and agreed to; the consent's words."""
    page.goto(f"{url}/")
    page.wait_for_selector("text=Card Details")
    page.get_by_role("switch", name="Auto-pay").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("heading", name="Turn on auto-pay").wait_for()
    consent = dialog.get_by_text("I authorise").inner_text()
    dialog.get_by_role("button", name="I agree, turn on auto-pay").click()
    page.wait_for_selector("text=each new invoice is charged to your Visa ending 4242 on its due date")
    return str(consent)


def run_auto_pay_now(db: Database, organization_id: int) -> None:
    """The day's auto-pay run, which the scheduler makes at 8:00 in the business's time zone, due now."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        arm(session, AUTO_PAY_JOB, str(organization_id), due_at=now, now=now)


def paid_with_receipt(page, url: str, db: Database, inbox, client_id: int, invoice_public_id: str) -> str:
    """Wait for the invoice to be paid; the customer sees it so, and its receipt e-mail arrives: its body."""

    def paid() -> bool:
        with db.reading() as session:
            status = session.scalars(
                select(Invoice.status).where(Invoice.public_id == invoice_public_id)
            ).one()
            return bool(status == "paid")

    until(paid)
    with db.reading() as session:
        receipt = session.scalars(
            select(Payment.receipt_number).where(Payment.client_id == client_id).order_by(Payment.id.desc())
        ).first()
    assert receipt
    page.goto(f"{url}/invoices/{invoice_public_id}")
    page.get_by_test_id("balance-due").get_by_text("Balance Due $0.00").wait_for()
    assert page.get_by_text("Paid", exact=True).first.is_visible()
    settle(page)
    return body_of(wait_for_mail(inbox, CUSTOMER_EMAIL, receipt))


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "it did not happen in time"
        time.sleep(0.25)


def test_a_card_on_auto_pay_pays_a_new_invoice_on_its_due_date(mail, browser):  # noqa: F811
    portal, inbox = mail
    db = portal_db(portal)
    try:
        client_id, organization_id, time_zone = customer(db)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, portal.url)
        page.wait_for_selector("text=Outstanding Invoices")
        save_a_card(page, portal.url, db, client_id)

        # Home > Card Details: the switch shows the consent, which is kept word for word.
        consent = turn_on_auto_pay(page, portal.url)
        assert "charge my Visa ending 4242 automatically for each new invoice" in consent
        with db.reading() as session:
            kept = session.scalars(select(AutoPayConsent).where(AutoPayConsent.client_id == client_id)).one()
        assert kept.consent_text == consent
        assert kept.ip_address == "127.0.0.1"

        # A new invoice of $1,314.15 falls due today (the business's day); the day's auto-pay run comes.
        # As Pay Now does, it uses the customer's $120.00 of credits and $700.00 of retainer first.
        today = datetime.now(UTC).astimezone(zone(time_zone)).date()
        ref = create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Quarterly support", Decimal(1), 131415)],
            issue_date=today,
            due_date=today,
        )
        send_invoice(db, ref.id)
        page.goto(f"{portal.url}/invoices/{ref.public_id}")
        page.wait_for_selector(f"text=Invoice {ref.number}")
        run_auto_pay_now(db, organization_id)

        body = paid_with_receipt(page, portal.url, db, inbox, client_id, ref.public_id)
        assert "Amount: $494.15" in body  # what the card paid
        assert ref.number in body
        with db.reading() as session:  # charged once
            charges = session.scalars(
                select(Payment.id).where(Payment.client_id == client_id, Payment.amount_minor == 49415)
            ).all()
        assert len(charges) == 1
        page.close()
    finally:
        db.engine.dispose()
