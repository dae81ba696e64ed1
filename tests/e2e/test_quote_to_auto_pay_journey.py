"""Issue 18's whole path in Chromium, with e-mail through aiosmtpd: the customer has auto-pay on with a saved
card; the business sends a quote, the customer accepts it from the e-mail, and its invoice is made, due
on receipt; on that due date, at once, the running portal's auto-pay run charges the card (after the
customer's credits and retainer, as Pay Now would); the customer sees the invoice paid and gets the
receipt.

The steps are the quote journey's (tests/e2e/test_quote_journey.py) and the auto-pay journey's
(tests/e2e/test_auto_pay_journey.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from models import Invoice, Organization, Payment
from services.demo import CUSTOMER_EMAIL
from tests.e2e.accessibility import sign_in_owner
from tests.e2e.test_account_journeys import mail, portal_db, wait_for_mail  # noqa: F401 - mail is a fixture
from tests.e2e.test_auto_pay_journey import (
    customer,
    paid_with_receipt,
    save_a_card,
    turn_on_auto_pay,
)
from tests.e2e.test_quote_journey import (
    accept_quote_as_customer,
    client_public_id,
    open_link_and_sign_in,
    quote_link_in,
    write_and_send_quote,
)
from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def test_an_accepted_quotes_invoice_is_auto_paid_on_its_due_date_with_a_saved_card(mail, browser):  # noqa: F811
    portal, inbox = mail
    db = portal_db(portal)
    try:
        client_id, organization_id, _time_zone = customer(db)
        with (
            db.transaction() as session
        ):  # the business asks for payment on receipt: due the day it is issued
            session.execute(
                update(Organization).where(Organization.id == organization_id).values(payment_terms_days=0)
            )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, portal.url)
        page.wait_for_selector("text=Outstanding Invoices")
        save_a_card(page, portal.url, db, client_id)
        turn_on_auto_pay(page, portal.url)
        page.context.clear_cookies()  # the customer signs out; the quote's e-mail brings them back

        owner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in_owner(owner, portal.url)
        number = write_and_send_quote(
            owner, portal.url, client_public_id(portal), description="Brand refresh", quantity="4", rate="300"
        )
        link = quote_link_in(wait_for_mail(inbox, CUSTOMER_EMAIL, number))
        open_link_and_sign_in(page, link)
        page.wait_for_selector(f"text=Quote {number}")
        invoice_number = accept_quote_as_customer(page, "Dana Demo")
        with db.reading() as session:
            invoice = session.scalars(select(Invoice).where(Invoice.number == invoice_number)).one()
            invoice_public_id, due, total = invoice.public_id, invoice.due_date, invoice.total_minor
        assert (due, total) == (invoice.issue_date, 120000)
        # Due the day it is made: issuing it to a client on auto-pay brought the auto-pay run forward, so
        # the running portal charges the card at once, on its due date, without waiting for tomorrow's run.
        body = paid_with_receipt(page, portal.url, db, inbox, client_id, invoice_public_id)
        assert "Amount: $380.00" in body  # $1,200.00 less the $120.00 of credits and $700.00 of retainer
        assert invoice_number in body
        with db.reading() as session:
            charged = session.scalars(
                select(Payment.amount_minor).where(Payment.client_id == client_id).order_by(Payment.id)
            ).all()
        assert charged[-1] == 38000
        assert charged.count(38000) == 1  # charged once
        owner.close()
        page.close()
    finally:
        db.engine.dispose()
