"""A customer applies available credits or retainer to an invoice, or asks for them back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, OutboxEmail, RefundRequest, RefundSource
from services.balances import client_balances
from services.credit_actions import apply_available, ask_for_refund, credit_options
from services.errors import (
    AmountExceedsBalance,
    InsufficientCredit,
    InvalidAmount,
    NotFound,
    PaymentInProgress,
    TextTooLong,
    human_message,
)
from services.gateways.base import BankAccountDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from tests.factories import Clock, make_client, make_customer, make_sent_invoice
from tests.unit.services.test_credits import credit_note, paid_retainer

CREDIT, RETAINER = RefundSource.CREDIT, RefundSource.RETAINER


def usd(minor):
    return Money(minor, "USD")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db):
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 30000, due_in_days=10)
    credit_note(db, principal.client_id, 12000)
    paid_retainer(db, principal.client_id, 50000)
    return principal, invoice


def figures(db, principal):
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
    return balances.outstanding.minor, balances.available_credits.minor, balances.available_retainer.minor


def test_the_options_list_unpaid_invoices_and_what_is_available(db, books, clock):
    principal, invoice = books
    options = credit_options(db, principal, clock=clock)
    assert (options.available_credits, options.available_retainer) == (usd(12000), usd(50000))
    assert [(i.number, i.balance_due, i.can_take) for i in options.invoices] == [
        (invoice.number, usd(30000), usd(30000))
    ]


@pytest.mark.parametrize(
    ("source", "after"), [(CREDIT, (20000, 2000, 50000)), (RETAINER, (20000, 12000, 40000))]
)
def test_applying_moves_the_amount_from_the_source_to_the_invoice(db, books, clock, source, after):
    principal, invoice = books
    apply_available(db, principal, invoice.public_id, usd(10000), source, clock=clock)
    assert figures(db, principal) == after
    with db.reading() as session:
        assert session.scalar(select(AuditEvent.action).where(AuditEvent.action.like("%.applied"))) == (
            f"{source}.applied"
        )


@pytest.mark.parametrize(
    ("amount", "error"),
    [(12001, InsufficientCredit), (0, InvalidAmount), (-5, InvalidAmount)],
)
def test_a_bad_credit_amount_is_refused_and_changes_nothing(db, books, clock, amount, error):
    principal, invoice = books
    with pytest.raises(error):
        apply_available(db, principal, invoice.public_id, usd(amount), CREDIT, clock=clock)
    assert figures(db, principal) == (30000, 12000, 50000)


def test_never_more_than_the_invoice_owes(db, books, clock):
    principal, invoice = books
    with pytest.raises(AmountExceedsBalance):
        apply_available(db, principal, invoice.public_id, usd(30001), RETAINER, clock=clock)
    apply_available(db, principal, invoice.public_id, usd(30000), RETAINER, clock=clock)
    assert figures(db, principal) == (0, 12000, 20000)


def test_credit_cannot_go_to_another_clients_invoice_or_a_retainer_invoice(db, books, clock):
    principal, _ = books
    organization = principal.organization_id
    stranger = make_sent_invoice(db, make_client(db, organization, name="Other Co"), 5000, due_in_days=3)
    with pytest.raises(NotFound):
        apply_available(db, principal, stranger.public_id, usd(1000), CREDIT, clock=clock)
    assert figures(db, principal) == (30000, 12000, 50000)


def test_credit_cannot_cover_what_a_processing_payment_is_paying(db, books, clock):
    principal, invoice = books
    account = BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True)
    plan = plan_pay_invoice(db, principal, invoice.public_id, usd(25000), clock=clock)
    pay(db, SandboxGateway(clock=clock), principal, plan, ChargeRequest("", 0, "", "", bank_account=account),
        clock=clock)  # fmt: skip
    assert credit_options(db, principal, clock=clock).invoices[0].can_take == usd(5000)
    with pytest.raises(PaymentInProgress):
        apply_available(db, principal, invoice.public_id, usd(5001), CREDIT, clock=clock)
    apply_available(db, principal, invoice.public_id, usd(5000), CREDIT, clock=clock)
    assert figures(db, principal) == (25000, 7000, 50000)


def test_a_refund_request_holds_the_amount_and_tells_the_business(db, books, clock):
    principal, invoice = books
    reference = ask_for_refund(db, principal, RETAINER, usd(45000), "  Project cancelled  ", clock=clock)
    assert figures(db, principal) == (30000, 12000, 50000)  # still the client's until paid out
    assert credit_options(db, principal, clock=clock).available_retainer == usd(5000)
    with db.reading() as session:
        request = session.scalars(select(RefundRequest)).one()
        email = session.scalars(select(OutboxEmail)).one()
    assert (request.public_id, request.amount_minor, request.reason) == (
        reference,
        45000,
        "Project cancelled",
    )
    assert email.to_addresses == "hello@acme.example"
    assert email.reply_to == "ann@client.example"
    assert "refund of $450.00" in email.body_text
    assert "Reason: Project cancelled" in email.body_text
    with pytest.raises(InsufficientCredit) as refused:  # the held amount cannot be applied meanwhile
        apply_available(db, principal, invoice.public_id, usd(5001), RETAINER, clock=clock)
    assert "$50.00 of retainer payments is available" in human_message(refused.value)


@pytest.mark.parametrize(
    ("amount", "reason", "error"),
    [(12001, "", InsufficientCredit), (0, "", InvalidAmount), (100, "x" * 1001, TextTooLong)],
)
def test_a_bad_refund_request_is_refused_and_holds_nothing(db, books, clock, amount, reason, error):
    principal, _ = books
    with pytest.raises(error):
        ask_for_refund(db, principal, CREDIT, usd(amount), reason, clock=clock)
    assert figures(db, principal) == (30000, 12000, 50000)
    with db.reading() as session:
        assert session.scalars(select(RefundRequest)).all() == []
        assert session.scalars(select(OutboxEmail)).all() == []
