"""A customer's credit notes as they read them: lines and totals, what each was applied to or refunded,
what remains, only their own and only issued ones; and those with credit left, for Home."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from models import CreditNote, CreditNoteStatus, RefundSource
from services.credit_notes import (
    credit_notes_with_credit,
    get_credit_note,
    issue_credit_note,
    void_credit_note,
)
from services.credits import apply_to_invoice, refund_available
from services.database import Database
from services.errors import NotFound
from services.money import Money
from services.principal import Principal
from services.records import DocumentRef
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_customer, make_sent_invoice


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def issue(
    db: Database, customer: Principal, minor: int, issued: date = TODAY, reason: str = ""
) -> DocumentRef:
    return issue_credit_note(
        db,
        client_id=customer.client_id,
        lines=[LineInput("Goodwill", Decimal(1), minor)],
        issue_date=issued,
        reason=reason,
        clock=fixed_clock,
    )


@pytest.fixture
def customer(db: Database) -> Principal:
    return make_customer(db)


def test_a_credit_note_shows_its_lines_totals_uses_and_what_remains(db, customer):
    note = issue_credit_note(
        db,
        client_id=customer.client_id,
        lines=[
            LineInput("Goodwill credit", Decimal(1), 12_000),
            LineInput("Unused hosting", Decimal(2), 3_000, tax_rate_percent=Decimal(20), tax_name="VAT"),
        ],
        issue_date=date(2026, 6, 1),
        reason="Delivery was two weeks late.",
        clock=fixed_clock,
    )
    invoice = make_sent_invoice(db, customer.client_id, 5_000)
    apply_to_invoice(db, client_id=customer.client_id, invoice_id=invoice.id, amount=usd(5_000),
                     source=RefundSource.CREDIT, clock=fixed_clock)  # fmt: skip
    refund_available(db, client_id=customer.client_id, source=RefundSource.CREDIT, amount=usd(2_000),
                     refunded_at=NOW + timedelta(days=1))  # fmt: skip

    document = get_credit_note(db, customer, note.public_id)

    assert (document.number, document.status, document.status_label) == (note.number, "open", "Open")
    assert document.issue_date == date(2026, 6, 1)
    assert document.reason == "Delivery was two weeks late."
    assert [(line.description, line.amount, line.tax) for line in document.lines] == [
        ("Goodwill credit", usd(12_000), usd(0)),
        ("Unused hosting", usd(6_000), usd(1_200)),
    ]
    assert (document.subtotal, document.tax, document.total) == (usd(18_000), usd(1_200), usd(19_200))
    assert [(use.kind, use.day, use.amount, use.invoice_number) for use in document.uses] == [
        ("applied", TODAY, usd(5_000), invoice.number),
        ("refund", TODAY + timedelta(days=1), usd(2_000), ""),
    ]
    assert document.uses[0].invoice_public_id == invoice.public_id
    assert document.remaining == usd(12_200) == document.total - usd(5_000) - usd(2_000)
    assert document.title == "Credit Note"
    assert document.logo is None
    assert document.client.name == "Client Ltd"


def test_another_clients_credit_note_and_a_draft_are_not_found(db, customer):
    other = make_customer(db, customer.organization_id, name="Other Co", email="bo@other.example")
    theirs = issue(db, other, 1_000)
    draft = issue(db, customer, 2_000)
    with db.transaction() as session:
        session.execute(
            update(CreditNote).where(CreditNote.id == draft.id).values(status=CreditNoteStatus.DRAFT)
        )
    for public_id in (theirs.public_id, draft.public_id, "no-such-note"):
        with pytest.raises(NotFound):
            get_credit_note(db, customer, public_id)
    assert get_credit_note(db, other, theirs.public_id).number == theirs.number


def test_a_voided_credit_note_reads_void_with_nothing_left(db, customer):
    note = issue(db, customer, 4_000)
    void_credit_note(db, note.id, clock=fixed_clock)
    document = get_credit_note(db, customer, note.public_id)
    assert (document.status, document.status_label, document.remaining) == ("void", "Void", usd(0))


def test_home_lists_the_credit_notes_with_credit_left_oldest_first(db, customer):
    used_up = issue(db, customer, 1_000, TODAY - timedelta(days=30))
    newer = issue(db, customer, 3_000, TODAY - timedelta(days=2))
    older = issue(db, customer, 2_000, TODAY - timedelta(days=20))
    voided = issue(db, customer, 500, TODAY - timedelta(days=1))
    void_credit_note(db, voided.id, clock=fixed_clock)
    invoice = make_sent_invoice(db, customer.client_id, 1_500)
    # Credit is drawn oldest first: all of the first note, half of the next.
    apply_to_invoice(db, client_id=customer.client_id, invoice_id=invoice.id, amount=usd(1_500),
                     source=RefundSource.CREDIT, clock=fixed_clock)  # fmt: skip
    other = make_customer(db, customer.organization_id, name="Other Co", email="bo@other.example")
    issue(db, other, 9_000)

    with db.reading() as session:
        listed = credit_notes_with_credit(session, customer.client_id)

    assert [(note.number, note.total, note.remaining) for note in listed] == [
        (older.number, usd(2_000), usd(1_500)),
        (newer.number, usd(3_000), usd(3_000)),
    ]
    assert used_up.number not in {note.number for note in listed}
    assert listed[0].public_id == older.public_id
