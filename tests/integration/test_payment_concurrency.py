"""Two tabs paying the same invoice at the same moment: one payment, one charge, whatever the timing.

Runs on SQLite (a file, so the two threads really share it) and on PostgreSQL when it is configured.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from models import Invoice, Payment, PaymentStatus
from services import online_payments
from services.errors import AmountExceedsBalance, InvoiceNotPayable, PaymentInProgress
from services.gateways.base import CardDetails, ChargeRequest, ChargeResult
from services.gateways.sandbox import SandboxGateway
from services.online_payments import pay, plan_pay_all, plan_pay_invoice
from services.saved_methods import gateway_customer
from tests.factories import make_customer, make_sent_invoice

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
