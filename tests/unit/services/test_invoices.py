"""Invoices and retainer invoices: drafts, numbering, sending, viewing and voiding."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, PaymentKind
from services.balances import client_balances, ledger_balance
from services.database import Database
from services.errors import DocumentHasApplications, InvalidStatusChange, NotFound
from services.invoices import create_invoice, mark_viewed, send_invoice, void_invoice
from services.money import Money
from services.payments import record_payment
from services.totals import InvalidLine, LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization, make_sent_invoice

LATER = NOW + timedelta(hours=3)


def later_clock():
    return LATER


def invoice_row(db: Database, invoice_id: int) -> Invoice:
    with db.reading() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return invoice


def invoice_count(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def draft(
    db: Database, client_id: int, amount_minor: int = 10000, *, kind: InvoiceKind = InvoiceKind.INVOICE
):
    return create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Design work", Decimal(1), amount_minor)],
        issue_date=TODAY,
        due_date=TODAY + timedelta(days=14),
        kind=kind,
        clock=fixed_clock,
    )


def pay(db: Database, client_id: int, invoice_id: int, amount_minor: int) -> None:
    record_payment(
        db,
        client_id=client_id,
        amount=Money(amount_minor, "USD"),
        method="cash",
        received_at=NOW,
        allocations={invoice_id: amount_minor},
        clock=fixed_clock,
    )


@pytest.fixture
def client_id(db: Database) -> int:
    return make_client(db, make_organization(db))


# --- creating ------------------------------------------------------------------------------------


def test_new_invoice_is_a_draft_with_totals_by_the_rounding_rules(db: Database, client_id: int) -> None:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[
            LineInput("Consulting", Decimal("1"), 1999, Decimal("2.5"), Decimal("19"), "VAT"),
            LineInput("Hosting", Decimal("0.333"), 1500),
        ],
        issue_date=TODAY,
        due_date=TODAY + timedelta(days=30),
        notes="Thank you",
        clock=fixed_clock,
    )
    invoice = invoice_row(db, ref.id)
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.currency == "USD"
    assert (invoice.subtotal_minor, invoice.discount_minor, invoice.tax_minor) == (1999 + 500, 50, 370)
    assert invoice.total_minor == 1999 - 50 + 370 + 500
    assert invoice.balance_due_minor == invoice.total_minor
    assert invoice.created_at == NOW
    assert invoice.notes == "Thank you"
    with db.reading() as session:
        lines = session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == ref.id).order_by(InvoiceLine.position)
        ).all()
    assert [(line.description, line.amount_minor, line.discount_minor, line.tax_minor) for line in lines] == [
        ("Consulting", 1999, 50, 370),
        ("Hosting", 500, 0, 0),
    ]
    assert [line.quantity for line in lines] == [Decimal("1"), Decimal("0.333")]


def test_invoice_is_in_the_currency_of_its_client(db: Database) -> None:
    yen_client = make_client(db, make_organization(db), currency="JPY", name="Tokyo KK")
    invoice = invoice_row(db, draft(db, yen_client, 5000).id)
    assert (invoice.currency, invoice.total_minor) == ("JPY", 5000)


def test_draft_is_neither_outstanding_nor_on_the_ledger(db: Database, client_id: int) -> None:
    draft(db, client_id, 10000)
    with db.reading() as session:
        assert client_balances(session, client_id, "USD").outstanding == Money(0, "USD")
        assert ledger_balance(session, client_id, "USD") == Money(0, "USD")


@pytest.mark.parametrize(
    ("lines", "due_in_days"),
    [([], 30), ([LineInput("Work", Decimal(1), 100)], -1)],
    ids=["no lines", "due before issue"],
)
def test_invoice_without_lines_or_due_before_issue_is_refused(
    db: Database, client_id: int, lines: list[LineInput], due_in_days: int
) -> None:
    with pytest.raises(ValueError, match=r"line|due date"):
        create_invoice(
            db,
            client_id=client_id,
            lines=lines,
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=due_in_days),
        )
    assert invoice_count(db) == 0


def test_invalid_line_creates_nothing_and_uses_no_number(db: Database, client_id: int) -> None:
    with pytest.raises(InvalidLine):
        create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Work", Decimal(0), 100)],
            issue_date=TODAY,
            due_date=TODAY,
        )
    assert invoice_count(db) == 0
    assert draft(db, client_id).number == "INV-00001"


def test_invoice_for_an_unknown_client_is_refused(db: Database) -> None:
    with pytest.raises(NotFound):
        draft(db, 999_999)


# --- numbering -----------------------------------------------------------------------------------


def test_invoice_numbers_count_up_per_organization_across_its_clients(db: Database) -> None:
    organization = make_organization(db)
    first, second = make_client(db, organization, name="First"), make_client(db, organization, name="Second")
    numbers = [draft(db, client).number for client in (first, second, first, second, first)]
    assert numbers == ["INV-00001", "INV-00002", "INV-00003", "INV-00004", "INV-00005"]


def test_retainer_invoices_have_their_own_number_sequence(db: Database, client_id: int) -> None:
    assert draft(db, client_id).number == "INV-00001"
    assert draft(db, client_id, kind=InvoiceKind.RETAINER).number == "RET-00001"
    assert draft(db, client_id).number == "INV-00002"
    assert draft(db, client_id, kind=InvoiceKind.RETAINER).number == "RET-00002"


def test_each_organization_numbers_its_own_invoices(db: Database) -> None:
    acme = make_client(db, make_organization(db, "Acme"))
    other = make_client(db, make_organization(db, "Other Co"))
    assert [draft(db, acme).number, draft(db, other).number, draft(db, acme).number] == [
        "INV-00001",
        "INV-00001",
        "INV-00002",
    ]


def test_invoice_numbers_and_public_ids_are_unique(db: Database, client_id: int) -> None:
    refs = [draft(db, client_id) for _ in range(12)]
    assert len({ref.number for ref in refs}) == 12
    assert len({ref.public_id for ref in refs}) == 12
    assert refs[-1].number == "INV-00012"


def test_invoices_created_at_the_same_moment_get_distinct_numbers(db: Database, client_id: int) -> None:
    # Two staff members (or the API and a person) issuing the organization's very first invoices at once.
    start = threading.Barrier(4)
    numbers: list[str] = []
    failures: list[BaseException] = []

    def issue_three() -> None:
        start.wait()
        try:
            numbers.extend(draft(db, client_id).number for _ in range(3))
        except Exception as error:  # reported through the assertion below
            failures.append(error)

    workers = [threading.Thread(target=issue_three) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert sorted(numbers) == [f"INV-{n:05d}" for n in range(1, 13)]


# --- sending and viewing -------------------------------------------------------------------------


def test_sending_a_draft_issues_it(db: Database, client_id: int) -> None:
    ref = draft(db, client_id, 10000)
    send_invoice(db, ref.id, clock=later_clock)
    invoice = invoice_row(db, ref.id)
    assert (invoice.status, invoice.sent_at) == (InvoiceStatus.SENT, LATER)
    with db.reading() as session:
        assert client_balances(session, client_id, "USD").outstanding == Money(10000, "USD")
        assert ledger_balance(session, client_id, "USD") == Money(10000, "USD")


def test_an_invoice_is_sent_only_once(db: Database, client_id: int) -> None:
    ref = make_sent_invoice(db, client_id, 10000)
    with pytest.raises(InvalidStatusChange) as raised:
        send_invoice(db, ref.id, clock=later_clock)
    assert (raised.value.number, raised.value.status, raised.value.wanted) == (ref.number, "sent", "sent")
    assert invoice_row(db, ref.id).sent_at == NOW


def test_sending_an_unknown_invoice_is_refused(db: Database) -> None:
    with pytest.raises(NotFound):
        send_invoice(db, 424242)


def test_first_view_of_a_sent_invoice_marks_it_viewed(db: Database, client_id: int) -> None:
    ref = make_sent_invoice(db, client_id, 10000)
    assert mark_viewed(db, ref.id, clock=later_clock) is True
    assert mark_viewed(db, ref.id, clock=lambda: LATER + timedelta(days=1)) is False
    invoice = invoice_row(db, ref.id)
    assert (invoice.status, invoice.viewed_at) == (InvoiceStatus.VIEWED, LATER)
    pay(db, client_id, ref.id, 10000)  # a viewed invoice can still be paid
    assert invoice_row(db, ref.id).status == InvoiceStatus.PAID


def test_viewing_a_draft_changes_nothing(db: Database, client_id: int) -> None:
    ref = draft(db, client_id)
    assert mark_viewed(db, ref.id, clock=later_clock) is False
    invoice = invoice_row(db, ref.id)
    assert (invoice.status, invoice.viewed_at) == (InvoiceStatus.DRAFT, None)


# --- voiding -------------------------------------------------------------------------------------


def test_voiding_an_unpaid_invoice_takes_it_off_what_is_owed(db: Database, client_id: int) -> None:
    kept = make_sent_invoice(db, client_id, 2500)
    ref = make_sent_invoice(db, client_id, 10000)
    void_invoice(db, ref.id, clock=later_clock)
    invoice = invoice_row(db, ref.id)
    assert (invoice.status, invoice.balance_due_minor, invoice.voided_at) == (InvoiceStatus.VOID, 0, LATER)
    assert invoice.total_minor == 10000  # history is kept, not rewritten
    assert invoice_row(db, kept.id).status == InvoiceStatus.SENT
    with db.reading() as session:
        assert client_balances(session, client_id, "USD").outstanding == Money(2500, "USD")
        assert ledger_balance(session, client_id, "USD") == Money(2500, "USD")


def test_a_viewed_invoice_can_be_voided(db: Database, client_id: int) -> None:
    ref = make_sent_invoice(db, client_id, 10000)
    mark_viewed(db, ref.id, clock=later_clock)
    void_invoice(db, ref.id)
    assert invoice_row(db, ref.id).status == InvoiceStatus.VOID


def test_voiding_a_partially_paid_invoice_is_refused_and_changes_nothing(
    db: Database, client_id: int
) -> None:
    ref = make_sent_invoice(db, client_id, 10000)
    pay(db, client_id, ref.id, 4000)
    with pytest.raises(DocumentHasApplications) as raised:
        void_invoice(db, ref.id)
    assert (raised.value.document, raised.value.number) == ("invoice", ref.number)
    invoice = invoice_row(db, ref.id)
    assert (invoice.status, invoice.balance_due_minor, invoice.voided_at) == (
        InvoiceStatus.PARTIALLY_PAID,
        6000,
        None,
    )


@pytest.mark.parametrize("state", ["draft", "paid", "void"])
def test_only_an_issued_open_invoice_can_be_voided(db: Database, client_id: int, state: str) -> None:
    ref = draft(db, client_id, 10000)
    if state != "draft":
        send_invoice(db, ref.id, clock=fixed_clock)
    if state == "paid":
        pay(db, client_id, ref.id, 10000)
    if state == "void":
        void_invoice(db, ref.id, clock=fixed_clock)
    before = invoice_row(db, ref.id)
    with pytest.raises(InvalidStatusChange) as raised:
        void_invoice(db, ref.id, clock=later_clock)
    assert (raised.value.status, raised.value.wanted) == (state, "voided")
    after = invoice_row(db, ref.id)
    assert (after.status, after.balance_due_minor, after.voided_at) == (
        before.status,
        before.balance_due_minor,
        before.voided_at,
    )


def test_a_paid_retainer_invoice_cannot_be_voided(db: Database, client_id: int) -> None:
    ref = draft(db, client_id, 50000, kind=InvoiceKind.RETAINER)
    send_invoice(db, ref.id, clock=fixed_clock)
    record_payment(
        db,
        client_id=client_id,
        amount=Money(50000, "USD"),
        method="bank_transfer",
        received_at=NOW,
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=ref.id,
    )
    with pytest.raises(InvalidStatusChange):
        void_invoice(db, ref.id)
    assert invoice_row(db, ref.id).status == InvoiceStatus.PAID
