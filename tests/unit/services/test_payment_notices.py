"""A booked payment sends a receipt to the customer and a notice to the business, once, through the outbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import OutboxEmail, Payment
from services.errors import NotFound
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.money import Money
from services.online_payments import book_result, pay, plan_pay_all, plan_pay_invoice
from services.payment_notices import ReceiptDelivery, receipt_delivery
from services.reconciliation import reconcile_payments
from tests.factories import Clock, make_customer, make_sent_invoice


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    first = make_sent_invoice(db, principal.client_id, 12000, due_in_days=10)
    second = make_sent_invoice(db, principal.client_id, 8050, due_in_days=20)
    return principal, first, second, SandboxGateway(clock=clock)


def card(number="4242424242424242"):
    details = CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")
    return ChargeRequest("", 0, "USD", "", card=details)


def bank(iban):
    return ChargeRequest("", 0, "USD", "", bank_account=BankAccountDetails("Ann", iban, "a@b.example", True))


def mails(db):
    with db.reading() as session:
        return [
            (email.to_addresses, email.subject, email.body_text, email.reply_to)
            for email in session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
        ]


def test_a_card_payment_sends_the_receipt_and_tells_the_business(db, books, clock):
    principal, first, second, gateway = books
    outcome = pay(db, gateway, principal, plan_pay_all(db, principal), card(), clock=clock)
    (to, subject, body, reply_to), (to_business, subject_business, notice, _) = mails(db)
    assert to == "ann@client.example"
    assert subject == f"Receipt {outcome.receipt_number} from Acme Studio"
    assert reply_to == "hello@acme.example"
    assert "Amount: $200.50" in body
    assert "Paid with: Visa ending 4242" in body
    assert f"{first.number}: $120.00 (still due: $0.00)" in body
    assert f"{second.number}: $80.50 (still due: $0.00)" in body
    assert "Sandbox - no real money" in body
    assert to_business == "hello@acme.example"
    assert subject_business == "Payment received: $200.50 from Client Ltd"
    assert outcome.receipt_number in notice


def test_a_partial_payment_receipt_says_what_is_still_due(db, books, clock):
    principal, first, _, gateway = books
    plan = plan_pay_invoice(db, principal, first.public_id, Money(5000, "USD"))
    pay(db, gateway, principal, plan, card(), clock=clock)
    body = mails(db)[0][2]
    assert f"{first.number}: $50.00 (still due: $70.00)" in body


def test_a_declined_card_sends_nothing(db, books, clock):
    principal, _, _, gateway = books
    outcome = pay(db, gateway, principal, plan_pay_all(db, principal), card("4000000000000002"), clock=clock)
    assert outcome.status == "failed"
    assert mails(db) == []


def test_a_bank_debit_sends_the_receipt_when_it_settles_and_only_once(db, books, clock):
    principal, _, _, gateway = books
    pay(db, gateway, principal, plan_pay_all(db, principal), bank("DE89370400440532013000"), clock=clock)
    assert mails(db) == []  # processing: no receipt for money that has not arrived
    clock.advance(seconds=6)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    with db.reading() as session:
        payment = session.scalars(select(Payment)).one()
        public_id, gateway_id = payment.public_id, payment.gateway_payment_id
    book_result(db, public_id, gateway.retrieve(gateway_id), gateway_name="sandbox", clock=clock)  # repeated
    receipts = [mail for mail in mails(db) if mail[0] == "ann@client.example"]
    assert len(receipts) == 1
    assert "Paid with: SEPA Direct Debit ending 3000" in receipts[0][2]
    assert len(mails(db)) == 2


def test_a_failed_debit_tells_the_customer_the_invoices_are_still_due(db, books, clock):
    principal, _, _, gateway = books
    pay(db, gateway, principal, plan_pay_all(db, principal), bank("DE62370400440532013001"), clock=clock)
    clock.advance(seconds=6)
    reconcile_payments(db, [gateway], clock=clock)
    ((to, subject, body, _),) = mails(db)
    assert to == "ann@client.example"
    assert subject == "Your payment of $200.50 to Acme Studio failed"
    assert "The bank refused the direct debit." in body
    assert "still due" in body


def test_the_success_screen_says_the_receipt_is_in_the_outbox_for_the_customer_who_paid(db, books, clock):
    principal, *_, gateway = books
    outcome = pay(db, gateway, principal, plan_pay_all(db, principal), card(), clock=clock)
    assert receipt_delivery(db, principal, outcome.payment_public_id) == ReceiptDelivery(
        "ann@client.example", queued=True
    )
    receipt = ("ann@client.example", f"Receipt {outcome.receipt_number} from Acme Studio")
    assert mails(db)[0][:2] == receipt  # in the outbox, to that address


def test_a_processing_debit_gets_its_receipt_later_and_a_declined_card_none(db, books, clock):
    principal, *_, gateway = books
    declined = pay(db, gateway, principal, plan_pay_all(db, principal), card("4000000000000002"), clock=clock)
    assert receipt_delivery(db, principal, declined.payment_public_id).queued is False
    debit = pay(
        db, gateway, principal, plan_pay_all(db, principal), bank("DE89370400440532013000"), clock=clock
    )
    assert receipt_delivery(db, principal, debit.payment_public_id) == ReceiptDelivery(
        "ann@client.example", queued=False
    )
    clock.advance(seconds=6)
    reconcile_payments(db, [gateway], clock=clock)
    assert receipt_delivery(db, principal, debit.payment_public_id).queued is True


def test_where_another_clients_receipt_goes_is_not_told(db, books, clock):
    principal, *_, gateway = books
    outcome = pay(db, gateway, principal, plan_pay_all(db, principal), card(), clock=clock)
    stranger = make_customer(db, principal.organization_id, name="Other Co", email="olga@other.example")
    with pytest.raises(NotFound):
        receipt_delivery(db, stranger, outcome.payment_public_id)
