"""Payments: receipts, allocation to invoices (oldest due first for Pay Now), excess as credit, retainers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    Allocation,
    AllocationKind,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from services.balances import client_balances, ledger_balance
from services.database import Database
from services.errors import (
    AmountExceedsBalance,
    InvalidAmount,
    InvalidStatusChange,
    InvoiceNotPayable,
    NotFound,
    WrongCurrency,
)
from services.invoices import create_invoice, send_invoice, void_invoice
from services.money import Money
from services.payments import (
    OpenInvoice,
    PaymentRef,
    allocate_oldest_first,
    open_invoices,
    record_payment,
    settle_payment,
)
from services.records import DocumentRef
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization, make_sent_invoice


@pytest.fixture
def client_id(db: Database) -> int:
    return make_client(db, make_organization(db))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def pay(
    db: Database,
    client_id: int,
    amount_minor: int,
    allocations: dict[int, int] | None = None,
    *,
    received_days_later: int = 0,
) -> PaymentRef:
    return record_payment(
        db,
        client_id=client_id,
        amount=usd(amount_minor),
        method="bank_transfer",
        received_at=NOW + timedelta(days=received_days_later),
        allocations=allocations,
        clock=fixed_clock,
    )


def pay_now(db: Database, client_id: int, amount_minor: int) -> PaymentRef:
    """What Pay Now does: plan the whole amount over the open invoices, oldest due date first."""
    with db.reading() as session:
        plan = allocate_oldest_first(open_invoices(session, client_id), amount_minor)
    return pay(db, client_id, amount_minor, plan)


def retainer_invoice(db: Database, client_id: int, amount_minor: int, *, send: bool = True) -> DocumentRef:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Advance for the website project", Decimal(1), amount_minor)],
        issue_date=TODAY,
        due_date=TODAY + timedelta(days=7),
        kind=InvoiceKind.RETAINER,
        clock=fixed_clock,
    )
    if send:
        send_invoice(db, ref.id, clock=fixed_clock)
    return ref


def pay_retainer(db: Database, client_id: int, retainer_id: int, amount_minor: int) -> PaymentRef:
    return record_payment(
        db,
        client_id=client_id,
        amount=usd(amount_minor),
        method="card",
        received_at=NOW,
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=retainer_id,
        clock=fixed_clock,
    )


def invoice_state(db: Database, invoice_id: int) -> tuple[str, int]:
    with db.reading() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return invoice.status, invoice.balance_due_minor


def allocations_of(db: Database, payment_id: int) -> dict[int, int]:
    with db.reading() as session:
        rows = session.scalars(select(Allocation).where(Allocation.payment_id == payment_id)).all()
        assert {row.kind for row in rows} <= {AllocationKind.PAYMENT}
        return {row.invoice_id: row.amount_minor for row in rows}


def row_counts(db: Database) -> tuple[int, int]:
    with db.reading() as session:
        payments = session.scalar(select(func.count()).select_from(Payment))
        allocations = session.scalar(select(func.count()).select_from(Allocation))
        return int(payments or 0), int(allocations or 0)


def balances(db: Database, client_id: int):
    with db.reading() as session:
        found = client_balances(session, client_id, "USD")
        assert found.net == ledger_balance(session, client_id, "USD")
        return found


# --- allocating ----------------------------------------------------------------------------------


def test_payment_pays_the_invoices_it_is_allocated_to(db: Database, client_id: int) -> None:
    first = make_sent_invoice(db, client_id, 10000)
    second = make_sent_invoice(db, client_id, 5000)
    untouched = make_sent_invoice(db, client_id, 700)
    ref = pay(db, client_id, 12000, {first.id: 10000, second.id: 2000})
    assert (ref.amount, ref.unapplied) == (usd(12000), usd(0))
    assert invoice_state(db, first.id) == (InvoiceStatus.PAID, 0)
    assert invoice_state(db, second.id) == (InvoiceStatus.PARTIALLY_PAID, 3000)
    assert invoice_state(db, untouched.id) == (InvoiceStatus.SENT, 700)
    assert allocations_of(db, ref.id) == {first.id: 10000, second.id: 2000}
    assert balances(db, client_id).outstanding == usd(3700)


def test_payment_excess_is_kept_as_available_credit(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 10000)
    ref = pay(db, client_id, 15000, {invoice.id: 10000})
    assert ref.unapplied == usd(5000)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.PAID, 0)
    found = balances(db, client_id)
    assert (found.outstanding, found.available_credits, found.available_retainer) == (
        usd(0),
        usd(5000),
        usd(0),
    )
    assert found.net == usd(-5000)


def test_payment_without_allocations_is_all_credit(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 10000)
    ref = pay(db, client_id, 2500)
    assert ref.unapplied == usd(2500)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.SENT, 10000)
    assert balances(db, client_id).available_credits == usd(2500)


def test_payments_get_consecutive_receipt_numbers_and_are_settled(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 10000)
    refs = [pay(db, client_id, 1000, {invoice.id: 1000}) for _ in range(3)]
    assert [ref.receipt_number for ref in refs] == ["RCPT-00001", "RCPT-00002", "RCPT-00003"]
    with db.reading() as session:
        payment = session.get(Payment, refs[0].id)
        assert payment is not None
        assert (payment.status, payment.received_at, payment.currency) == (
            PaymentStatus.SUCCEEDED,
            NOW,
            "USD",
        )


def test_last_payment_is_the_latest_received(db: Database, client_id: int) -> None:
    pay(db, client_id, 1000, received_days_later=2)
    pay(db, client_id, 3000, received_days_later=1)
    last = balances(db, client_id).last_payment
    assert last is not None
    assert (last.amount, last.received_at) == (usd(1000), NOW + timedelta(days=2))


def test_no_payment_means_no_last_payment(db: Database, client_id: int) -> None:
    make_sent_invoice(db, client_id, 1000)
    assert balances(db, client_id).last_payment is None


# --- refusals leave everything as it was ---------------------------------------------------------


def test_allocating_more_than_the_balance_is_refused_and_changes_nothing(
    db: Database, client_id: int
) -> None:
    paid_part = make_sent_invoice(db, client_id, 10000)
    invoice = make_sent_invoice(db, client_id, 5000)
    with pytest.raises(AmountExceedsBalance) as raised:
        pay(db, client_id, 20000, {paid_part.id: 10000, invoice.id: 5001})
    assert (raised.value.invoice_number, raised.value.balance, raised.value.requested) == (
        invoice.number,
        usd(5000),
        usd(5001),
    )
    assert invoice_state(db, paid_part.id) == (InvoiceStatus.SENT, 10000)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.SENT, 5000)
    assert row_counts(db) == (0, 0)
    assert balances(db, client_id).available_credits == usd(0)
    # no receipt number was used up
    assert pay(db, client_id, 100).receipt_number == "RCPT-00001"


@pytest.mark.parametrize("state", ["draft", "paid", "void"])
def test_paying_an_invoice_that_is_not_open_is_refused(db: Database, client_id: int, state: str) -> None:
    if state == "draft":
        ref = create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Work", Decimal(1), 5000)],
            issue_date=TODAY,
            due_date=TODAY,
        )
    else:
        ref = make_sent_invoice(db, client_id, 5000)
    if state == "paid":
        pay(db, client_id, 5000, {ref.id: 5000})
    if state == "void":
        void_invoice(db, ref.id)
    before = row_counts(db), invoice_state(db, ref.id)
    with pytest.raises(InvoiceNotPayable) as raised:
        pay(db, client_id, 5000, {ref.id: 1})
    assert (raised.value.invoice_number, raised.value.status) == (ref.number, state)
    assert (row_counts(db), invoice_state(db, ref.id)) == before


def test_payment_in_another_currency_is_refused(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 5000)
    with pytest.raises(WrongCurrency) as raised:
        record_payment(
            db,
            client_id=client_id,
            amount=Money(5000, "EUR"),
            method="card",
            received_at=NOW,
            allocations={invoice.id: 5000},
        )
    assert (raised.value.expected, raised.value.given) == ("USD", "EUR")
    assert row_counts(db) == (0, 0)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.SENT, 5000)


@pytest.mark.parametrize("amount_minor", [0, -100])
def test_payment_of_nothing_or_less_is_refused(db: Database, client_id: int, amount_minor: int) -> None:
    with pytest.raises(InvalidAmount):
        pay(db, client_id, amount_minor)
    assert row_counts(db) == (0, 0)


def test_allocating_more_than_the_payment_is_refused(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 5000)
    with pytest.raises(InvalidAmount):
        pay(db, client_id, 4000, {invoice.id: 5000})
    assert row_counts(db) == (0, 0)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.SENT, 5000)


def test_another_clients_invoice_cannot_be_paid(db: Database, client_id: int) -> None:
    other_client = make_client(db, make_organization(db, "Other"), name="Someone Else")
    theirs = make_sent_invoice(db, other_client, 5000)
    with pytest.raises(NotFound):
        pay(db, client_id, 5000, {theirs.id: 5000})
    assert invoice_state(db, theirs.id) == (InvoiceStatus.SENT, 5000)
    assert row_counts(db) == (0, 0)


# --- Pay Now: oldest due date first --------------------------------------------------------------


def test_allocate_oldest_first_fills_the_earliest_due_invoices_first() -> None:
    invoices = [
        OpenInvoice(id=1, due_date=date(2026, 3, 1), balance_minor=500),
        OpenInvoice(id=2, due_date=date(2026, 1, 1), balance_minor=300),
        OpenInvoice(id=3, due_date=date(2026, 2, 1), balance_minor=400),
    ]
    assert allocate_oldest_first(invoices, 1000) == {2: 300, 3: 400, 1: 300}
    assert allocate_oldest_first(invoices, 200) == {2: 200}


def test_allocate_oldest_first_breaks_due_date_ties_by_creation_order() -> None:
    due = date(2026, 1, 1)
    invoices = [OpenInvoice(9, due, 100), OpenInvoice(4, due, 100), OpenInvoice(6, due, 100)]
    assert allocate_oldest_first(invoices, 150) == {4: 100, 6: 50}


def test_allocate_oldest_first_leaves_the_excess_unallocated_and_skips_settled_invoices() -> None:
    invoices = [OpenInvoice(1, date(2026, 1, 1), 0), OpenInvoice(2, date(2026, 1, 2), 250)]
    assert allocate_oldest_first(invoices, 1000) == {2: 250}
    assert allocate_oldest_first(invoices, 0) == {}
    assert allocate_oldest_first([], 1000) == {}


def test_pay_now_allocates_oldest_due_first(db: Database, client_id: int) -> None:
    latest = make_sent_invoice(db, client_id, 3000, due_in_days=60)
    oldest = make_sent_invoice(db, client_id, 2000, due_in_days=10)
    middle = make_sent_invoice(db, client_id, 4000, due_in_days=30)
    ref = pay_now(db, client_id, 5000)
    assert allocations_of(db, ref.id) == {oldest.id: 2000, middle.id: 3000}
    assert invoice_state(db, oldest.id) == (InvoiceStatus.PAID, 0)
    assert invoice_state(db, middle.id) == (InvoiceStatus.PARTIALLY_PAID, 1000)
    assert invoice_state(db, latest.id) == (InvoiceStatus.SENT, 3000)
    assert ref.unapplied == usd(0)


def test_pay_now_for_more_than_is_owed_pays_everything_and_keeps_the_rest(
    db: Database, client_id: int
) -> None:
    first = make_sent_invoice(db, client_id, 3000, due_in_days=5)
    second = make_sent_invoice(db, client_id, 2000, due_in_days=15)
    ref = pay_now(db, client_id, 6000)
    assert allocations_of(db, ref.id) == {first.id: 3000, second.id: 2000}
    assert ref.unapplied == usd(1000)
    found = balances(db, client_id)
    assert (found.outstanding, found.available_credits) == (usd(0), usd(1000))


def test_open_invoices_are_the_issued_unpaid_invoices_of_the_client(db: Database, client_id: int) -> None:
    sent = make_sent_invoice(db, client_id, 1000)
    partly = make_sent_invoice(db, client_id, 2000)
    pay(db, client_id, 500, {partly.id: 500})
    paid = make_sent_invoice(db, client_id, 3000)
    pay(db, client_id, 3000, {paid.id: 3000})
    voided = make_sent_invoice(db, client_id, 4000)
    void_invoice(db, voided.id)
    create_invoice(
        db, client_id=client_id, lines=[LineInput("Draft", Decimal(1), 99)], issue_date=TODAY, due_date=TODAY
    )
    retainer_invoice(db, client_id, 50000)
    other_client = make_client(db, make_organization(db, "Other"), name="Else")
    make_sent_invoice(db, other_client, 100)
    with db.reading() as session:
        found = {invoice.id: invoice.balance_minor for invoice in open_invoices(session, client_id)}
    assert found == {sent.id: 1000, partly.id: 1500}


# --- settling a gateway payment ------------------------------------------------------------------


def test_settling_a_payment_clamps_its_plan_to_what_is_still_due(db: Database, client_id: int) -> None:
    invoice = make_sent_invoice(db, client_id, 10000)
    with db.transaction() as session:
        attempt = Payment(
            organization_id=session.get(Invoice, invoice.id).organization_id,  # type: ignore[union-attr]
            client_id=client_id,
            kind=PaymentKind.INVOICE,
            status=PaymentStatus.PROCESSING,
            amount_minor=10000,
            currency="USD",
            method="bank_account",
            planned_allocations=[{"invoice_id": invoice.id, "amount_minor": 10000}],
            created_at=NOW,
        )
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    pay(db, client_id, 4000, {invoice.id: 4000})  # paid in part by other means meanwhile
    with db.transaction() as session:
        payment = session.get(Payment, attempt_id)
        assert payment is not None
        settle_payment(session, payment, received_at=NOW, clock=fixed_clock)
    with db.reading() as session:
        payment = session.get(Payment, attempt_id)
        assert payment is not None
        assert (payment.status, payment.unapplied_minor, payment.receipt_number) == (
            PaymentStatus.SUCCEEDED,
            4000,
            "RCPT-00002",
        )
    assert allocations_of(db, attempt_id) == {invoice.id: 6000}
    assert invoice_state(db, invoice.id) == (InvoiceStatus.PAID, 0)
    assert balances(db, client_id).available_credits == usd(4000)
    with db.transaction() as session:
        payment = session.get(Payment, attempt_id)
        assert payment is not None
        with pytest.raises(InvalidStatusChange):  # a gateway's second "succeeded" settles nothing twice
            settle_payment(session, payment, received_at=NOW)


# --- retainers -----------------------------------------------------------------------------------


def test_retainer_payment_pays_its_retainer_invoice_and_becomes_available_retainer(
    db: Database, client_id: int
) -> None:
    retainer = retainer_invoice(db, client_id, 50000)
    assert retainer.number == "RET-00001"
    ref = pay_retainer(db, client_id, retainer.id, 50000)
    assert ref.receipt_number == "RCPT-00001"
    assert ref.unapplied == usd(50000)
    assert invoice_state(db, retainer.id) == (InvoiceStatus.PAID, 0)
    assert allocations_of(db, ref.id) == {}
    found = balances(db, client_id)
    assert (found.outstanding, found.available_credits, found.available_retainer) == (
        usd(0),
        usd(0),
        usd(50000),
    )
    with db.reading() as session:
        assert ledger_balance(session, client_id, "USD") == usd(-50000)


def test_partial_retainer_payment_leaves_the_rest_to_pay(db: Database, client_id: int) -> None:
    retainer = retainer_invoice(db, client_id, 50000)
    pay_retainer(db, client_id, retainer.id, 20000)
    assert invoice_state(db, retainer.id) == (InvoiceStatus.PARTIALLY_PAID, 30000)
    assert balances(db, client_id).available_retainer == usd(20000)


def test_unpaid_retainer_invoice_is_not_outstanding(db: Database, client_id: int) -> None:
    retainer_invoice(db, client_id, 50000)
    make_sent_invoice(db, client_id, 1000)
    found = balances(db, client_id)
    assert found.outstanding == usd(1000)
    with db.reading() as session:
        assert ledger_balance(session, client_id, "USD") == usd(1000)


def test_retainer_payment_above_the_retainer_balance_is_refused(db: Database, client_id: int) -> None:
    retainer = retainer_invoice(db, client_id, 50000)
    with pytest.raises(AmountExceedsBalance):
        pay_retainer(db, client_id, retainer.id, 50001)
    assert invoice_state(db, retainer.id) == (InvoiceStatus.SENT, 50000)
    assert row_counts(db) == (0, 0)


def test_a_draft_retainer_invoice_cannot_be_paid(db: Database, client_id: int) -> None:
    retainer = retainer_invoice(db, client_id, 50000, send=False)
    with pytest.raises(InvoiceNotPayable):
        pay_retainer(db, client_id, retainer.id, 50000)
    assert row_counts(db) == (0, 0)


def test_retainer_payments_and_invoice_payments_do_not_mix(db: Database, client_id: int) -> None:
    retainer = retainer_invoice(db, client_id, 50000)
    invoice = make_sent_invoice(db, client_id, 1000)
    with pytest.raises(NotFound):  # an invoice payment cannot pay a retainer invoice
        pay(db, client_id, 50000, {retainer.id: 50000})
    with pytest.raises(NotFound):  # a retainer payment cannot pay an ordinary invoice
        pay_retainer(db, client_id, invoice.id, 1000)
    with pytest.raises(ValueError, match="retainer"):
        record_payment(
            db,
            client_id=client_id,
            amount=usd(1000),
            method="card",
            received_at=NOW,
            kind=PaymentKind.RETAINER,
            retainer_invoice_id=retainer.id,
            allocations={invoice.id: 1000},
        )
    assert row_counts(db) == (0, 0)
    assert invoice_state(db, retainer.id) == (InvoiceStatus.SENT, 50000)
    assert invoice_state(db, invoice.id) == (InvoiceStatus.SENT, 1000)
