"""Paying while the database fails: PostgreSQL going away (its connections reset, new ones refused) and
SQLite locked by another writer, at each step of a payment. Nothing is charged without an attempt on
record, a charge whose booking failed is booked once when the database is back, and no invoice is paid
twice meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

import models
from models import Invoice, Payment
from services.database import Database, make_engine
from services.errors import PaymentInDoubt, PaymentInProgress, PaymentNotStarted, human_message
from services.gateways.base import ChargeQuery, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.online_payments import pay, plan_pay_all, plan_pay_invoice
from services.reconciliation import reconcile_payments
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.factories import Clock, make_customer, make_sent_invoice
from tests.faults import TcpGate, sqlite_lock
from tests.unit.services.test_online_payments import card


class Outage:
    """Takes the database away and gives it back, as the backend's real fault."""

    def __init__(self, start: Callable[[], object], end: Callable[[], object]) -> None:
        self.start, self.end = start, end


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set"),
        ),
    ]
)
def faulty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database, Outage]]:
    if request.param == "sqlite":
        path = tmp_path / "portal.db"
        engine = make_engine(f"sqlite:///{path}", busy_timeout=0.3)
        models.Base.metadata.create_all(engine)
        locks = ExitStack()
        yield Database(engine), Outage(lambda: locks.enter_context(sqlite_lock(path)), locks.close)
        locks.close()
        engine.dispose()
        return
    url = postgres_test_url("payment_faults")
    direct = make_engine(url)
    with direct.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    models.Base.metadata.create_all(direct)
    direct.dispose()
    gate, gated = TcpGate.for_url(url)
    engine = make_engine(gated, connect_args={"connect_timeout": 2})
    yield Database(engine), Outage(gate.close, gate.open)
    engine.dispose()
    gate.stop()


@pytest.fixture
def books(faulty):
    db, outage = faulty
    principal = make_customer(db)
    first = make_sent_invoice(db, principal.client_id, 12000, due_in_days=5)
    second = make_sent_invoice(db, principal.client_id, 8000, due_in_days=20)
    clock = Clock()
    # The gateway lives elsewhere: its record of charges does not go down with our database.
    gateway = SandboxGateway(clock=clock)
    return db, outage, principal, (first, second), gateway, clock


def statuses(db):
    with db.reading() as session:
        payments = [tuple(row) for row in session.execute(select(Payment.status, Payment.receipt_number))]
        invoices = list(session.scalars(select(Invoice.status).order_by(Invoice.id)))
    return payments, invoices


def gateway_charges(db: Database, gateway: SandboxGateway) -> int:
    """How many of our attempts the gateway holds a charge for."""
    with db.reading() as session:
        attempts = session.execute(select(Payment.public_id, Payment.created_at)).all()
    return sum(gateway.find_charge(ChargeQuery(key, "", at)) is not None for key, at in attempts)


def test_with_the_database_down_before_the_attempt_nothing_is_charged(books):
    db, outage, principal, _, gateway, clock = books
    plan = plan_pay_all(db, principal, clock=clock)
    outage.start()
    with pytest.raises(PaymentNotStarted) as refused:
        pay(db, gateway, principal, plan, card(), clock=clock)
    outage.end()
    assert "nothing was charged" in human_message(refused.value)
    assert gateway_charges(db, gateway) == 0
    assert statuses(db) == ([], ["sent", "sent"])
    assert pay(db, gateway, principal, plan, card(), clock=clock).status == "succeeded"  # back: it works
    assert statuses(db) == ([("succeeded", "RCPT-00001")], ["paid", "paid"])


def test_a_charge_whose_booking_met_the_outage_is_booked_once_when_the_database_is_back(books):
    db, outage, principal, invoices, gateway, clock = books
    charge = gateway.charge

    def charge_then_lose_the_database(request: ChargeRequest):
        result = charge(request)
        outage.start()  # the gateway took the money; the database is gone before we book it
        return result

    gateway.charge = charge_then_lose_the_database
    with pytest.raises(PaymentInDoubt) as doubt:
        pay(db, gateway, principal, plan_pay_all(db, principal, clock=clock), card(), clock=clock)
    assert "you will not be charged twice" in human_message(doubt.value)
    gateway.charge = charge

    with pytest.raises(OperationalError):  # still down: reconciliation cannot book yet
        reconcile_payments(db, [gateway], clock=clock)
    outage.end()

    assert statuses(db) == ([("pending", None)], ["sent", "sent"])
    with pytest.raises(PaymentInProgress):  # no second charge while the first is unbooked
        plan_pay_invoice(db, principal, invoices[0].public_id, clock=clock)
    assert plan_pay_all(db, principal, clock=clock).lines == ()

    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert reconcile_payments(db, [gateway], clock=clock).booked == 0
    assert statuses(db) == ([("succeeded", "RCPT-00001")], ["paid", "paid"])
    assert gateway_charges(db, gateway) == 1


def test_a_database_failing_while_reconciliation_books_leaves_the_attempt_for_the_next_round(books):
    db, outage, principal, _, gateway, clock = books
    charge = gateway.charge

    def charge_then_lose_the_database(request: ChargeRequest):
        result = charge(request)
        outage.start()
        return result

    gateway.charge = charge_then_lose_the_database
    with pytest.raises(PaymentInDoubt):
        pay(db, gateway, principal, plan_pay_all(db, principal, clock=clock), card(), clock=clock)
    gateway.charge = charge
    outage.end()

    find = gateway.find_charge

    def answer_then_lose_the_database(query):
        found = find(query)
        outage.start()  # reconciliation has the gateway's answer; the database fails as it books it
        return found

    gateway.find_charge = answer_then_lose_the_database
    with pytest.raises(OperationalError):  # the round ends; the loop reports the outage
        reconcile_payments(db, [gateway], clock=clock)
    gateway.find_charge = find
    outage.end()

    assert statuses(db) == ([("pending", None)], ["sent", "sent"])
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert statuses(db) == ([("succeeded", "RCPT-00001")], ["paid", "paid"])
    assert gateway_charges(db, gateway) == 1
