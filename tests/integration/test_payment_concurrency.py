"""Two tabs paying the same invoice at the same moment: one payment, one charge, whatever the timing.

Runs on SQLite (a file, so the two threads really share it) and on PostgreSQL when it is configured.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from models import Invoice, Payment, PaymentStatus, RefundSource
from services import credits, online_payments
from services.balances import client_balances, ledger_balance
from services.credit_actions import apply_available
from services.errors import (
    AmountExceedsBalance,
    CreditNoLongerAvailable,
    InsufficientCredit,
    InvoiceNotPayable,
    PaymentInProgress,
)
from services.gateways.base import CardDetails, ChargeRequest, ChargeResult
from services.gateways.sandbox import SandboxGateway
from services.money import Money
from services.online_payments import pay, plan_pay_all, plan_pay_invoice
from services.pay_now import choose, offer_pay_now
from services.saved_methods import gateway_customer
from tests.factories import make_customer, make_sent_invoice
from tests.unit.services.test_credits import credit_note

REFUSALS = (PaymentInProgress, AmountExceedsBalance, InvoiceNotPayable)


class SlowGateway(SandboxGateway):
    """The sandbox, taking a moment to answer like a real gateway, and counting the charges it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.charges = 0
        self._count = threading.Lock()

    def charge(self, request: ChargeRequest) -> ChargeResult:
        with self._count:
            self.charges += 1
        time.sleep(0.2)
        return super().charge(request)


@pytest.fixture(autouse=True)
def slow_reservation_check(monkeypatch):
    """Widen the window between reading what is in flight and storing the attempt, as a busy server
    would: without the lock that serializes attempts, both tabs would read "nothing in flight"."""
    read = online_payments.in_flight

    def slow(*args, **kwargs):
        found = read(*args, **kwargs)
        time.sleep(0.1)
        return found

    monkeypatch.setattr(online_payments, "in_flight", slow)


@pytest.fixture
def books(db):
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 40000, due_in_days=5)
    make_sent_invoice(db, principal.client_id, 15000, due_in_days=9)
    gateway_customer(db, SandboxGateway(), principal)  # known already, so the tabs race straight to paying
    return principal, invoice


def card() -> ChargeRequest:
    return ChargeRequest("", 0, "", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))


def race(*payers) -> list[object]:
    """Start every payer at the same instant; each one's outcome or the error it raised."""
    start = threading.Barrier(len(payers))
    results: list[object] = [None] * len(payers)

    def run(index: int, payer) -> None:
        start.wait()
        try:
            results[index] = payer()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, payer)) for i, payer in enumerate(payers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def succeeded_payments(db) -> int:
    with db.reading() as session:
        return session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
        )


def test_two_tabs_paying_one_invoice_at_once_make_one_payment_and_one_charge(db, books):
    principal, invoice = books
    gateway = SlowGateway()
    plan = plan_pay_invoice(db, principal, invoice.public_id)  # both tabs show the same amount
    results = race(*[lambda: pay(db, gateway, principal, plan, card())] * 2)
    assert sorted(type(result).__name__ for result in results) == ["PaymentInProgress", "PaymentOutcome"]
    assert gateway.charges == 1
    assert succeeded_payments(db) == 1
    with db.reading() as session:
        assert session.get_one(Invoice, invoice.id).balance_due_minor == 0


def test_pay_now_in_one_tab_and_one_invoice_in_another_never_pay_it_twice(db, books):
    principal, invoice = books
    gateway = SlowGateway()
    everything = plan_pay_all(db, principal)
    just_one = plan_pay_invoice(db, principal, invoice.public_id)
    results = race(
        lambda: pay(db, gateway, principal, everything, card()),
        lambda: pay(db, gateway, principal, just_one, card()),
    )
    assert sum(isinstance(result, REFUSALS) for result in results) == 1
    assert gateway.charges == 1
    with db.reading() as session:
        paid = session.scalar(select(func.sum(Payment.amount_minor)).where(Payment.status == "succeeded"))
        balances = session.scalars(select(Invoice.balance_due_minor)).all()
    assert paid in (55000, 40000)  # whichever won; the other was refused before any charge
    assert sum(balances) == 55000 - paid


def test_many_tabs_at_once_still_charge_once(db, books):
    principal, invoice = books
    gateway = SlowGateway()
    plan = plan_pay_invoice(db, principal, invoice.public_id)
    results = race(*[lambda: pay(db, gateway, principal, plan, card())] * 6)
    assert sum(not isinstance(result, Exception) for result in results) == 1
    assert all(isinstance(result, REFUSALS) for result in results if isinstance(result, Exception)), results
    assert gateway.charges == 1
    assert succeeded_payments(db) == 1


@pytest.fixture
def slow_credit_check(monkeypatch):
    """Widen the window between reading what credit is free and using or holding it."""
    read = credits.held_by_payments

    def slow(*args, **kwargs):
        found = read(*args, **kwargs)
        time.sleep(0.1)
        return found

    monkeypatch.setattr(credits, "held_by_payments", slow)


def test_a_payment_using_the_credits_and_an_apply_in_another_tab_at_once_use_them_once(
    db, books, slow_credit_check
):
    principal, invoice = books
    credit_note(db, principal.client_id, 12000)
    gateway = SlowGateway()
    offer = offer_pay_now(db, principal)
    other = next(line for line in offer.plan.lines if line.invoice_public_id != invoice.public_id)
    plan = choose(offer, {invoice.public_id: Money(40000, "USD")})  # $120 of credit, $280 by card
    results = race(
        lambda: pay(db, gateway, principal, plan, card()),
        lambda: apply_available(
            db, principal, other.invoice_public_id, Money(12000, "USD"), RefundSource.CREDIT
        ),
    )
    refused = [
        result for result in results if isinstance(result, CreditNoLongerAvailable | InsufficientCredit)
    ]
    assert len(refused) == 1, results
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
        assert balances.net == ledger_balance(session, principal.client_id, "USD")
        due = sum(session.scalars(select(Invoice.balance_due_minor)).all())
    assert balances.available_credits == Money(0, "USD")
    assert gateway.charges == (0 if isinstance(results[0], CreditNoLongerAvailable) else 1)
    assert due == 55000 - 12000 - 28000 * gateway.charges  # the credit once, and the charge if it was made


def test_two_tabs_paying_with_the_same_credits_at_once_use_them_once(db, books, slow_credit_check):
    principal, _invoice = books
    credit_note(db, principal.client_id, 12000)
    gateway = SlowGateway()
    offer = offer_pay_now(db, principal)
    first, second = ({line.invoice_public_id: line.amount} for line in offer.plan.lines)
    results = race(
        lambda: pay(db, gateway, principal, choose(offer, first), card()),
        lambda: pay(db, gateway, principal, choose(offer, second), card()),
    )
    assert sum(isinstance(result, CreditNoLongerAvailable) for result in results) == 1, results
    assert gateway.charges == 1
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
        assert balances.net == ledger_balance(session, principal.client_id, "USD")
    assert (balances.available_credits, succeeded_payments(db)) == (Money(0, "USD"), 1)
