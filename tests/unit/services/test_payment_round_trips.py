"""What one card payment asks of the database.

With fifty customers paying at once, every round trip to PostgreSQL is also a wait for Python's
interpreter lock among the threads paying, so their number is the payment's speed (benchmarks/load.py).
A payment stores its attempt, keeps the gateway's customer and the sandbox's record (a statement each,
committed on its own), and books the answer: two transactions, and no statement more than it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from models import GatewayCustomer, SandboxCharge
from services.database import Database
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.online_payments import pay, plan_pay_all
from tests.factories import Clock, make_customer, make_sent_invoice


@contextmanager
def counted(db: Database) -> Iterator[dict[str, list[str]]]:
    """The statements sent and the transactions committed while the block runs."""
    seen: dict[str, list[str]] = {"statements": [], "commits": []}

    def statement(_connection, _cursor, sql, *_args) -> None:
        seen["statements"].append(" ".join(sql.split())[:60])

    def commit(_connection) -> None:
        seen["commits"].append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)


def card() -> ChargeRequest:
    details = CardDetails("4242424242424242", 12, 2030, "123", "Ann")
    return ChargeRequest("", 0, "USD", "", card=details)


def test_a_card_payment_over_three_invoices_on_postgresql(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no round trips: its statements run in the portal's own process")
    clock = Clock()
    gateway = SandboxGateway(records=DatabaseRecords(db), clock=clock)
    first = make_customer(db, name="First Ltd", email="first@client.example")
    make_sent_invoice(db, first.client_id, 5000)
    pay(db, gateway, first, plan_pay_all(db, first), card(), clock=clock)  # the receipts' sequence made
    principal = make_customer(db, first.organization_id)

    def pay_three() -> dict[str, list[str]]:
        for amount in (10000, 20000, 30000):
            make_sent_invoice(db, principal.client_id, amount)
        plan = plan_pay_all(db, principal)
        with counted(db) as seen:
            outcome = pay(db, gateway, principal, plan, card(), clock=clock)
        assert outcome.status == "succeeded"
        assert outcome.amount.minor == 60000
        return seen

    first_time = pay_three()
    # The attempt (the client locked, what is in flight, the invoices, the payment), the customer at the
    # gateway, the sandbox's record, then the booking: the payment locked with its receipt's parties,
    # the invoices locked, one flush of every write, and the receipt's number written everywhere.
    assert len(first_time["statements"]) == 14, first_time["statements"]
    assert first_time["commits"] == ["COMMIT", "COMMIT"]  # the attempt and the booking
    again = pay_three()  # the client's customer at the gateway is known now
    assert len(again["statements"]) == 13, again["statements"]
    assert again["commits"] == ["COMMIT", "COMMIT"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(GatewayCustomer)) == 2
        assert session.scalar(select(func.count()).select_from(SandboxCharge)) == 3
