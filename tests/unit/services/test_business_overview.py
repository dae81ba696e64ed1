"""The back office's dashboard figures: receivables per currency, what needs attention, recent payments."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from models import RefundSource
from services.business_overview import business_overview
from services.comments import add_comment
from services.contact_business import send_message
from services.credits import request_refund
from services.database import Database
from services.invoices import create_invoice
from services.money import Money
from services.payments import record_payment
from services.records import DocumentRef
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_customer, make_sent_invoice


def test_an_empty_business_owes_nothing_and_needs_nothing(db: Database) -> None:
    customer = make_customer(db)
    overview = business_overview(db, customer.organization_id, today=TODAY)
    assert overview.receivables == ()
    assert (overview.drafts, overview.unread, overview.open_refund_requests) == (0, 0, 0)
    assert overview.recent_payments == ()


def test_receivables_are_summed_per_currency_with_the_overdue_part(db: Database) -> None:
    customer = make_customer(db)
    euro_client = make_client(db, customer.organization_id, currency="EUR", name="Euro Client")
    make_sent_invoice(db, customer.client_id, 10_000, issue_date=TODAY - timedelta(days=40))  # overdue
    make_sent_invoice(db, customer.client_id, 2_550)
    make_sent_invoice(db, euro_client, 700)
    draft = create_invoice(
        db,
        client_id=customer.client_id,
        lines=[LineInput("Draft work", Decimal(1), 99_999)],
        issue_date=TODAY,
        due_date=TODAY,
        clock=fixed_clock,
    )
    assert isinstance(draft, DocumentRef)

    overview = business_overview(db, customer.organization_id, today=TODAY)

    usd, eur = overview.receivables
    assert (usd.outstanding, usd.overdue, usd.open_count, usd.overdue_count) == (
        Money(12_550, "USD"),
        Money(10_000, "USD"),
        2,
        1,
    )
    assert (eur.outstanding, eur.overdue) == (Money(700, "EUR"), Money(0, "EUR"))
    assert overview.drafts == 1


def test_a_part_paid_invoice_counts_its_balance_and_the_payment_is_listed(db: Database) -> None:
    customer = make_customer(db)
    invoice = make_sent_invoice(db, customer.client_id, 10_000)
    record_payment(
        db,
        client_id=customer.client_id,
        amount=Money(4_000, "USD"),
        method="cash",
        received_at=NOW,
        allocations={invoice.id: 4_000},
        clock=fixed_clock,
    )
    overview = business_overview(db, customer.organization_id, today=TODAY)
    assert overview.receivables[0].outstanding == Money(6_000, "USD")
    (payment,) = overview.recent_payments
    assert (payment.client_name, payment.amount, payment.method) == (
        "Client Ltd",
        Money(4_000, "USD"),
        "cash",
    )


def test_customer_comments_messages_and_refund_requests_need_attention(db: Database) -> None:
    customer = make_customer(db)
    invoice = make_sent_invoice(db, customer.client_id, 5_000)
    add_comment(db, customer, invoice.public_id, "Can I pay next week?", clock=fixed_clock)
    send_message(db, customer, subject="Hello", body="A question about my account", clock=fixed_clock)
    record_payment(
        db,
        client_id=customer.client_id,
        amount=Money(8_000, "USD"),
        method="cash",
        received_at=NOW,
        allocations={invoice.id: 5_000},
        clock=fixed_clock,
    )
    request_refund(
        db,
        client_id=customer.client_id,
        portal_user_id=customer.portal_user_id,
        source=RefundSource.CREDIT,
        amount=Money(3_000, "USD"),
        clock=fixed_clock,
    )
    overview = business_overview(db, customer.organization_id, today=TODAY)
    assert overview.unread == 2
    assert overview.open_refund_requests == 1
    assert overview.receivables == ()  # the only invoice is paid


def test_another_business_sees_none_of_it(db: Database) -> None:
    customer = make_customer(db)
    make_sent_invoice(db, customer.client_id, 5_000)
    other = make_customer(db, name="Other Co", email="bo@other.example")
    assert business_overview(db, other.organization_id, today=TODAY).receivables == ()
