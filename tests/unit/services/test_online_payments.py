"""Paying online through the sandbox: invoices are paid only when the gateway says so, never twice."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Allocation, Invoice, InvoiceKind, Payment, SavedPaymentMethod
from services.balances import client_balances, ledger_balance
from services.errors import (
    AmountExceedsBalance,
    InvalidPaymentDetails,
    PaymentInProgress,
    PaymentNotStarted,
    human_message,
)
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.invoices import create_invoice, send_invoice
from services.money import Money
from services.online_payments import book_result, pay, plan_pay_all, plan_pay_invoice
from services.reconciliation import reconcile_payments
from services.totals import LineInput
from tests.factories import TODAY, Clock, make_customer, make_sent_invoice


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    later = make_sent_invoice(db, principal.client_id, 30000, due_in_days=40)
    older = make_sent_invoice(db, principal.client_id, 20000, due_in_days=10)
    return {"principal": principal, "later": later, "older": older, "gateway": SandboxGateway(clock=clock)}


def card(number="4242424242424242", save=False):
    details = CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")
    return ChargeRequest("", 0, "USD", "", card=details, save_method=save)


def bank(iban="DE89370400440532013000"):
    account = BankAccountDetails("Ann", iban, "ann@client.example", mandate_accepted=True)
    return ChargeRequest("", 0, "USD", "", bank_account=account)


def state(db, principal):
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
        assert balances.net == ledger_balance(session, principal.client_id, "USD")
        statuses = dict(session.execute(select(Invoice.number, Invoice.status)).all())
    return balances, statuses


def test_pay_now_pays_everything_oldest_due_first(db, books, clock):
    plan = plan_pay_all(db, books["principal"])
    assert [line.number for line in plan.lines] == [books["older"].number, books["later"].number]
    assert plan.total == Money(50000, "USD")
    outcome = pay(db, books["gateway"], books["principal"], plan, card(), clock=clock)
    assert outcome.status == "succeeded"
    assert outcome.receipt_number == "RCPT-00001"
    balances, statuses = state(db, books["principal"])
    assert balances.outstanding == Money(0, "USD")
    assert set(statuses.values()) == {"paid"}
    assert balances.last_payment is not None
    assert balances.last_payment.amount == Money(50000, "USD")


def test_a_declined_card_changes_no_invoice(db, books, clock):
    plan = plan_pay_all(db, books["principal"])
    outcome = pay(db, books["gateway"], books["principal"], plan, card("4000000000000002"), clock=clock)
    assert outcome.status == "failed"
    assert outcome.failure_message == "Your card was declined."
    balances, statuses = state(db, books["principal"])
    assert balances.outstanding == Money(50000, "USD")
    assert set(statuses.values()) == {"sent"}


def test_a_wrong_card_field_fails_the_attempt_and_says_which(db, books, clock):
    plan = plan_pay_all(db, books["principal"])
    with pytest.raises(InvalidPaymentDetails) as refused:
        pay(db, books["gateway"], books["principal"], plan, card("4242424242424241"), clock=clock)
    assert refused.value.field == "card_number"
    with db.reading() as session:
        assert session.scalars(select(Payment.status)).all() == ["failed"]
    assert state(db, books["principal"])[0].outstanding == Money(50000, "USD")


def test_a_bank_debit_pays_the_invoices_only_when_it_settles(db, books, clock):
    plan = plan_pay_invoice(db, books["principal"], books["older"].public_id)
    outcome = pay(db, books["gateway"], books["principal"], plan, bank(), clock=clock)
    assert outcome.status == "processing"
    assert state(db, books["principal"])[0].outstanding == Money(50000, "USD")
    assert reconcile_payments(db, [books["gateway"]], clock=clock).booked == 0
    clock.now += timedelta(seconds=6)
    assert reconcile_payments(db, [books["gateway"]], clock=clock).booked == 1
    balances, statuses = state(db, books["principal"])
    assert balances.outstanding == Money(30000, "USD")
    assert statuses[books["older"].number] == "paid"


def test_a_failed_debit_leaves_the_invoice_unpaid(db, books, clock):
    plan = plan_pay_invoice(db, books["principal"], books["older"].public_id)
    pay(db, books["gateway"], books["principal"], plan, bank("DE62370400440532013001"), clock=clock)
    clock.now += timedelta(seconds=6)
    reconcile_payments(db, [books["gateway"]], clock=clock)
    with db.reading() as session:
        assert session.scalars(select(Payment.failure_message)).one() == "The bank refused the direct debit."
    assert state(db, books["principal"])[0].outstanding == Money(50000, "USD")


def test_a_processing_payment_reserves_its_invoice_until_the_bank_answers(db, books, clock):
    principal = books["principal"]
    plan = plan_pay_invoice(db, principal, books["older"].public_id)
    pay(db, books["gateway"], principal, plan, bank(), clock=clock)
    with pytest.raises(PaymentInProgress) as refused:
        pay(db, books["gateway"], principal, plan, card(), clock=clock)
    assert books["older"].number in human_message(refused.value)
    with pytest.raises(PaymentInProgress):
        plan_pay_invoice(db, principal, books["older"].public_id)
    # Pay Now offers only what is not being paid already, and that can be paid meanwhile.
    rest = plan_pay_all(db, principal, clock=clock)
    assert [line.number for line in rest.lines] == [books["later"].number]
    assert pay(db, books["gateway"], principal, rest, card(), clock=clock).status == "succeeded"
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 2
    clock.advance(seconds=6)
    reconcile_payments(db, [books["gateway"]], clock=clock)
    balances, statuses = state(db, principal)
    assert balances.outstanding == Money(0, "USD")
    assert set(statuses.values()) == {"paid"}


def test_a_partly_reserved_invoice_can_be_paid_only_for_the_rest(db, books, clock):
    principal = books["principal"]
    part = plan_pay_invoice(db, principal, books["later"].public_id, Money(10000, "USD"))
    pay(db, books["gateway"], principal, part, bank(), clock=clock)
    rest = plan_pay_invoice(db, principal, books["later"].public_id, clock=clock)
    assert rest.total == Money(20000, "USD")
    with pytest.raises(PaymentInProgress):
        plan_pay_invoice(db, principal, books["later"].public_id, Money(20001, "USD"), clock=clock)
    assert pay(db, books["gateway"], principal, rest, card(), clock=clock).status == "succeeded"


def test_a_repeated_gateway_answer_is_booked_once(db, books, clock):
    plan = plan_pay_invoice(db, books["principal"], books["older"].public_id)
    outcome = pay(db, books["gateway"], books["principal"], plan, card(), clock=clock)
    with db.reading() as session:
        gateway_id = session.scalars(select(Payment.gateway_payment_id)).one()
    answer = books["gateway"].retrieve(gateway_id)
    again = book_result(db, outcome.payment_public_id, answer, gateway_name="sandbox", clock=clock)
    assert again.receipt_number == outcome.receipt_number
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Allocation)) == 1


def test_a_partial_payment_of_one_invoice_and_never_more_than_owed(db, books, clock):
    plan = plan_pay_invoice(db, books["principal"], books["later"].public_id, Money(10000, "USD"))
    pay(db, books["gateway"], books["principal"], plan, card(), clock=clock)
    balances, statuses = state(db, books["principal"])
    assert statuses[books["later"].number] == "partially_paid"
    assert balances.outstanding == Money(40000, "USD")
    with pytest.raises(AmountExceedsBalance):
        plan_pay_invoice(db, books["principal"], books["later"].public_id, Money(20001, "USD"))


def test_a_saved_card_keeps_only_brand_last4_and_expiry(db, books, clock):
    plan = plan_pay_invoice(db, books["principal"], books["older"].public_id)
    pay(db, books["gateway"], books["principal"], plan, card(save=True), clock=clock)
    with db.reading() as session:
        saved = session.scalars(select(SavedPaymentMethod)).one()
    assert (saved.brand, saved.last4, saved.exp_month, saved.exp_year) == ("Visa", "4242", 12, 2030)
    assert "4242424242424242" not in saved.gateway_method_id
    plan = plan_pay_invoice(db, books["principal"], books["later"].public_id)
    request = ChargeRequest("", 0, "USD", "", saved_method_id=saved.gateway_method_id)
    assert pay(db, books["gateway"], books["principal"], plan, request, clock=clock).status == "succeeded"


def test_paying_a_retainer_invoice_becomes_available_retainer(db, books, clock):
    principal = books["principal"]
    retainer = create_invoice(
        db,
        client_id=principal.client_id,
        kind=InvoiceKind.RETAINER,
        lines=[LineInput("Advance", Decimal(1), 80000)],
        issue_date=TODAY,
        due_date=TODAY,
        clock=clock,
    )
    send_invoice(db, retainer.id, clock=clock)
    plan = plan_pay_invoice(db, principal, retainer.public_id)
    pay(db, books["gateway"], principal, plan, card(), clock=clock)
    balances, statuses = state(db, principal)
    assert balances.available_retainer == Money(80000, "USD")
    assert balances.outstanding == Money(50000, "USD")
    assert statuses[retainer.number] == "paid"


def test_no_card_number_or_cvc_reaches_a_log_line_or_a_row(db, books, clock, caplog):
    caplog.set_level(logging.DEBUG)
    details = CardDetails("4242424242424242", 12, 2030, "937", "Ann")
    plan = plan_pay_invoice(db, books["principal"], books["older"].public_id)
    pay(
        db,
        books["gateway"],
        books["principal"],
        plan,
        ChargeRequest("", 0, "", "", card=details, save_method=True),
        clock=clock,
    )
    mistyped = CardDetails("4242424242424241", 12, 2030, "938", "Ann")
    plan = plan_pay_invoice(db, books["principal"], books["later"].public_id)
    with pytest.raises(InvalidPaymentDetails) as refused:
        pay(
            db,
            books["gateway"],
            books["principal"],
            plan,
            ChargeRequest("", 0, "", "", card=mistyped),
            clock=clock,
        )
    assert "4242424242424241" not in repr(refused.value) + repr(mistyped)
    with db.reading() as session:
        stored = " ".join(
            str(value)
            for model in (Payment, SavedPaymentMethod, Allocation)
            for row in session.scalars(select(model))
            for value in vars(row).values()
        )
    for number in ("4242424242424242", "4242424242424241"):
        assert number not in caplog.text
        assert number not in stored
    for cvc in ("937", "938"):  # as a value of its own: random ids are made of digits and letters too
        alone = re.compile(rf"(?<![0-9A-Za-z]){cvc}(?![0-9A-Za-z])")
        assert not alone.search(caplog.text)
        assert not alone.search(stored)


def test_a_first_payment_whose_gateway_customer_cannot_be_made_charges_nothing(db, books, clock, monkeypatch):
    charges = []
    monkeypatch.setattr(books["gateway"], "charge", lambda request: charges.append(request))

    def unreachable(customer_id, *, email, name):
        raise ConnectionError("the gateway did not answer")

    monkeypatch.setattr(books["gateway"], "ensure_customer", unreachable)
    plan = plan_pay_all(db, books["principal"])
    with pytest.raises(PaymentNotStarted):
        pay(db, books["gateway"], books["principal"], plan, card(), clock=clock)
    assert charges == []
    with db.reading() as session:  # closed at once, so nothing stays reserved
        assert session.execute(select(Payment.status, Payment.failure_message)).one() == (
            "failed",
            "The payment could not be started; nothing was charged.",
        )
    monkeypatch.undo()
    assert plan_pay_all(db, books["principal"]).total == Money(50000, "USD")
    assert pay(db, books["gateway"], books["principal"], plan, card(), clock=clock).status == "succeeded"
