"""A paid receipt's number is the same in the payment, its two messages and the PDF's file name, on
SQLite and on PostgreSQL, where one statement writes it everywhere (``services.receipt_numbering``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import selectinload

from models import NumberSequence, OutboxEmail, Payment
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.online_payments import pay, plan_pay_all
from services.payment_notices import RECEIPT_NUMBER
from services.principal import Principal
from tests.factories import Clock, make_customer, make_organization, make_sent_invoice


@pytest.fixture
def clock():
    return Clock()


def card() -> ChargeRequest:
    details = CardDetails(
        number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", holder_name="Ann"
    )
    return ChargeRequest("", 0, "USD", "", card=details)


def pay_everything(db, principal: Principal, clock) -> str:
    outcome = pay(
        db, SandboxGateway(clock=clock), principal, plan_pay_all(db, principal), card(), clock=clock
    )
    assert outcome.status == "succeeded"
    assert outcome.receipt_number is not None
    return outcome.receipt_number


def messages(db) -> list[tuple[int | None, str, str, list[str]]]:
    """Each message in the outbox: its client, subject, text and attachments' file names."""
    with db.reading() as session:
        emails = session.scalars(
            select(OutboxEmail).options(selectinload(OutboxEmail.attachments)).order_by(OutboxEmail.id)
        ).all()
        return [
            (email.client_id, email.subject, email.body_text, [file.filename for file in email.attachments])
            for email in emails
        ]


def receipt_messages(db, number: str) -> list[tuple[str, str, list[str]]]:
    return [(subject, text, files) for _, subject, text, files in messages(db) if number in subject + text]


def test_the_number_is_in_the_payment_both_messages_and_the_pdf_s_name(db, clock):
    principal = make_customer(db)
    numbers = []
    for amount in (10000, 20000):  # the first receipt makes the sequence's row; the second takes from it
        make_sent_invoice(db, principal.client_id, amount)
        numbers.append(pay_everything(db, principal, clock))
    assert numbers == ["RCPT-00001", "RCPT-00002"]
    with db.reading() as session:
        assert session.scalars(select(Payment.receipt_number).order_by(Payment.id)).all() == numbers
    for number in numbers:
        to_customer, to_business = receipt_messages(db, number)
        assert to_customer[0].startswith(f"Receipt {number} from ")
        assert f"Receipt number: {number}" in to_customer[1]
        assert to_customer[2] == [f"Receipt-{number}.pdf"]
        assert number in to_business[0] + to_business[1]
    assert not any(
        RECEIPT_NUMBER in subject + text + "".join(files) for _, subject, text, files in messages(db)
    )


def test_a_number_longer_than_the_sequence_s_width_is_written_whole(db, clock):
    principal = make_customer(db)
    make_sent_invoice(db, principal.client_id, 10000)
    pay_everything(db, principal, clock)
    with db.transaction() as session:
        session.execute(
            update(NumberSequence).where(NumberSequence.kind == "receipt").values(next_value=123456)
        )
    make_sent_invoice(db, principal.client_id, 20000)
    assert pay_everything(db, principal, clock) == "RCPT-123456"
    ((subject, _, files),) = [found for found in receipt_messages(db, "RCPT-123456") if found[2]]
    assert subject.startswith("Receipt RCPT-123456 ")
    assert files == ["Receipt-RCPT-123456.pdf"]


def test_customers_paying_at_once_get_one_number_each_in_their_own_messages(db, clock):
    organization_id = make_organization(db)
    customers = [
        make_customer(db, organization_id, name=f"Client {index}", email=f"payer{index}@client.example")
        for index in range(6)
    ]
    for customer in customers:
        make_sent_invoice(db, customer.client_id, 10000)
    with ThreadPoolExecutor(len(customers)) as pool:
        numbers = list(pool.map(lambda customer: pay_everything(db, customer, clock), customers))
    assert sorted(numbers) == [f"RCPT-{value:05d}" for value in range(1, 7)]
    with db.reading() as session:
        by_client = dict(session.execute(select(Payment.client_id, Payment.receipt_number)).all())
    for client_id, _subject, text, files in messages(db):
        if files:  # a customer's receipt: the number of their own payment
            assert files == [f"Receipt-{by_client[client_id]}.pdf"]
            assert f"Receipt number: {by_client[client_id]}" in text


def test_on_postgresql_the_row_every_receipt_shares_is_held_for_one_statement_and_the_commit(db, clock):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write lock is the whole database's from the transaction's first write")
    principal = make_customer(db)
    make_sent_invoice(db, principal.client_id, 10000)
    pay_everything(db, principal, clock)  # the first receipt makes the sequence's row
    make_sent_invoice(db, principal.client_id, 20000)
    seen: list[str] = []

    def statement(_connection, _cursor, sql, *_args) -> None:
        seen.append(sql)

    def commit(_connection) -> None:
        seen.append("COMMIT")

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        assert pay_everything(db, principal, clock) == "RCPT-00002"
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
    taken = [index for index, sql in enumerate(seen) if "UPDATE number_sequences" in sql]
    assert len(taken) == 1
    assert seen[taken[0] + 1] == "COMMIT"  # the payment and its messages got the number in that statement
