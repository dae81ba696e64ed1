"""In Chromium with the Stripe gateway (localstripe and its fake Stripe.js): pay an invoice with a new card
saved for later, then another invoice with the saved card, then one that asks for 3-D Secure; and pay
through pay links, with no account, also with 3-D Secure."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import Invoice, Payment, ProcessedWebhookEvent, SavedPaymentMethod
from services.database import Database
from services.demo import OTHER_CUSTOMER_EMAIL
from services.invoices import PAYABLE_STATUSES
from services.money import Money, format_money
from services.pay_links import issue_pay_link
from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def portal_db(data_dir) -> Database:
    return Database.from_url(f"sqlite:///{data_dir / 'portal.db'}")


def unpaid_invoices(data_dir) -> list[tuple[str, str, int]]:
    """(public id, number, balance) of the demo customer's unpaid invoices, oldest due first."""
    db = portal_db(data_dir)
    try:
        with db.reading() as session:
            rows = session.execute(
                select(Invoice.public_id, Invoice.number, Invoice.balance_due_minor)
                .where(Invoice.kind == "invoice", Invoice.balance_due_minor > 0)
                .where(Invoice.status.in_(("sent", "viewed", "partially_paid")))
                .order_by(Invoice.due_date, Invoice.id)
            ).all()
            return [(public_id, number, balance) for public_id, number, balance in rows]
    finally:
        db.engine.dispose()


def stored(data_dir, model, *columns):
    db = portal_db(data_dir)
    try:
        with db.reading() as session:
            return [
                tuple(row) for row in session.execute(select(*[getattr(model, c) for c in columns])).all()
            ]
    finally:
        db.engine.dispose()


def type_card(page, number: str) -> None:
    """The fake Stripe.js card element: plain inputs named by placeholder (no iframe, unlike Stripe's)."""
    card = page.locator("[data-testid=stripe-card]")
    card.get_by_placeholder("number").wait_for()
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("30")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("94607")


def open_payment(page, url: str, public_id: str, balance: int) -> str:
    page.goto(f"{url}/pay?invoice={public_id}")
    page.wait_for_selector("text=What you are paying")
    return format_money(Money(balance, "USD"))


def test_pay_with_a_new_saved_card_then_with_the_saved_card(stripe_portal, browser):
    (first_id, _, first_balance), (second_id, _, second_balance), (third_id, _, third_balance) = (
        unpaid_invoices(stripe_portal.data_dir)[:3]
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, stripe_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")

    owed = open_payment(page, stripe_portal.url, first_id, first_balance)
    assert page.get_by_text("Sandbox - no real money").count() == 0
    page.get_by_text("New card", exact=True).click()
    type_card(page, "4242424242424242")
    page.fill("[aria-label='Name on card']", "Dana Demo")
    page.get_by_text("Save this card for future payments").click()
    page.get_by_role("button", name=f"Pay {owed}").click()
    page.wait_for_selector(f"text=Thank you! Payment received: {owed}.")
    assert page.get_by_text("Receipt RCPT-").is_visible()
    assert stored(stripe_portal.data_dir, SavedPaymentMethod, "brand", "last4", "holder_name") == [
        ("Visa", "4242", "Dana Demo")
    ]

    owed = open_payment(page, stripe_portal.url, second_id, second_balance)
    saved = page.get_by_text("Visa •••• 4242, expires 12/2030")
    assert saved.is_visible()  # the saved card is offered first
    page.get_by_role("button", name=f"Pay {owed}").click()
    page.wait_for_selector(f"text=Thank you! Payment received: {owed}.")

    # A card that asks for 3-D Secure: the bank's challenge appears in the page and is completed.
    owed = open_payment(page, stripe_portal.url, third_id, third_balance)
    page.get_by_text("New card", exact=True).click()
    type_card(page, "4000002760003184")
    page.fill("[aria-label='Name on card']", "Dana Demo")
    page.get_by_role("button", name=f"Pay {owed}").click()
    page.get_by_role("button", name="Complete authentication").click()  # at the card's setup
    page.get_by_role("button", name="Complete authentication").click()  # at the payment
    page.wait_for_selector(f"text=Thank you! Payment received: {owed}.")

    payments = stored(stripe_portal.data_dir, Payment, "status", "gateway", "amount_minor")
    assert sorted(p for p in payments if p[1] == "stripe") == sorted(
        ("succeeded", "stripe", amount) for amount in (first_balance, second_balance, third_balance)
    )
    still_unpaid = {public_id for public_id, _, _ in unpaid_invoices(stripe_portal.data_dir)}
    assert {first_id, second_id, third_id}.isdisjoint(still_unpaid)
    page.close()


def test_a_sepa_debit_that_bounces_is_failed_by_stripes_signed_webhook(stripe_portal, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, stripe_portal.url, email=OTHER_CUSTOMER_EMAIL)  # a customer billed in euros
    page.wait_for_selector("text=Outstanding Invoices")
    page.get_by_role("button", name="Pay Now").first.click()
    page.wait_for_selector("text=What you are paying")
    total = page.get_by_role("button", name=re.compile(r"^Pay ")).inner_text()
    page.get_by_text("New bank account", exact=True).click()
    page.fill("[aria-label='Account holder']", "Olga Other")
    page.fill("[aria-label='IBAN']", "DE62 3704 0044 0532 0130 01")  # localstripe bounces it after a moment
    page.get_by_text("I accept the direct debit mandate").click()
    page.get_by_role("button", name=total).click()
    page.wait_for_selector("text=is processing")

    def settled() -> tuple[bool, list[str]]:
        failed = ("failed", "stripe") in stored(stripe_portal.data_dir, Payment, "status", "gateway")
        events = [kind for (kind,) in stored(stripe_portal.data_dir, ProcessedWebhookEvent, "event_type")]
        return failed, events

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the settle loop or the webhook books it, whichever comes first
        failed, events = settled()
        if failed and "payment_intent.payment_failed" in events:
            break
        time.sleep(0.25)
    failed, events = settled()
    assert failed
    assert "payment_intent.payment_failed" in events  # delivered by localstripe, signed, to our route

    page.goto(f"{stripe_portal.url}/")
    page.wait_for_selector("text=Outstanding Invoices")
    assert page.get_by_role("button", name="Pay Now").count() == 1  # still owed
    page.close()


def test_a_pay_link_pays_through_stripe_also_after_3d_secure_without_an_account(stripe_portal, browser):
    db = portal_db(stripe_portal.data_dir)
    try:
        with db.transaction() as session:
            invoices = session.scalars(
                select(Invoice)
                .where(Invoice.currency == "USD", Invoice.balance_due_minor > 0)
                .where(Invoice.status.in_(PAYABLE_STATUSES))
                .order_by(Invoice.due_date, Invoice.id)
            ).all()[:2]
            links = [
                (
                    invoice.number,
                    invoice.balance_due_minor,
                    issue_pay_link(session, invoice, now=datetime.now(UTC))[0],
                )
                for invoice in invoices
            ]
    finally:
        db.engine.dispose()
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # no session at all
    for (number, balance, token), card in zip(links, ("4242424242424242", "4000002760003184"), strict=True):
        page.goto(f"{stripe_portal.url}/pay-link?token={token}")
        page.wait_for_selector(f"text=Invoice {number}")
        assert page.get_by_text("Sandbox - no real money").count() == 0
        type_card(page, card)
        page.fill("[aria-label='Name on card']", "Pat Payer")
        page.get_by_role("button", name=f"Pay {format_money(Money(balance, 'USD'))}").click()
        if card == "4000002760003184":  # the bank's challenge, at the card's setup and at the payment
            page.get_by_role("button", name="Complete authentication").click()
            page.get_by_role("button", name="Complete authentication").click()
        page.wait_for_selector(f"text=Thank you! Payment received: {format_money(Money(balance, 'USD'))}.")
        assert page.get_by_role("button", name="Download receipt").is_visible()
    numbers = [number for number, _, _ in links]
    invoices_now = {
        number: status for number, status in stored(stripe_portal.data_dir, Invoice, "number", "status")
    }
    assert [invoices_now[number] for number in numbers] == ["paid", "paid"]
    payments = stored(stripe_portal.data_dir, Payment, "status", "gateway", "portal_user_id", "amount_minor")
    for _, balance, _ in links:  # the link's payer has no login: no portal user on the payment
        assert ("succeeded", "stripe", None, balance) in payments
    page.close()
