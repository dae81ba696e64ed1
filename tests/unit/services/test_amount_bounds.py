"""One bound on every amount: exactly at it is accepted, one minor unit over is refused and changes
nothing (the API's side, and sums over many documents at the bound, are in tests/api)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from models import Client, CreditNote, Invoice, InvoiceKind, Payment
from services.amount_bounds import MAX_AMOUNT_MINOR
from services.credit_notes import issue_credit_note
from services.database import Database
from services.draft_invoices import create_draft, totals_problem, update_draft
from services.errors import AmountTooLarge, human_message
from services.invoices import create_invoice
from services.money import Money
from services.payments import record_payment
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization

MAX = MAX_AMOUNT_MINOR


def line(rate: int, quantity: str = "1", tax: str = "0") -> LineInput:
    return LineInput("Work", Decimal(quantity), rate, tax_rate_percent=Decimal(tax))


def invoice(db: Database, client_id: int, *lines: LineInput) -> int:
    ref = create_invoice(
        db, client_id=client_id, lines=lines, issue_date=TODAY, due_date=TODAY + timedelta(days=30)
    )
    return ref.id


def count(db: Database, model: type) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    "lines",
    [
        [line(MAX)],
        [line(MAX - 1), line(1)],
        [line(8 * 10**12, "1.25")],  # quantity x rate = 10^13 exactly
        [line(MAX // 2, "1", "100")],  # half the bound with 100 % tax
    ],
)
def test_a_document_exactly_at_the_bound_is_accepted(db: Database, lines: list[LineInput]) -> None:
    client_id = make_client(db, make_organization(db))
    with db.reading() as session:
        stored = session.get_one(Invoice, invoice(db, client_id, *lines))
        assert stored.total_minor == MAX
    note = issue_credit_note(db, client_id=client_id, lines=lines, issue_date=TODAY, clock=fixed_clock)
    with db.reading() as session:
        assert session.get_one(CreditNote, note.id).total_minor == MAX


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line(MAX + 1)], "lines.0.unit_price_minor"),
        ([line(MAX // 2 + 1, "2")], "lines.0.amount_minor"),  # each figure fits; their product does not
        ([line(8 * 10**12 + 1, "1.25")], "lines.0.amount_minor"),  # 10^13 + 1.25 rounds to 10^13 + 1
        ([line(1), line(MAX)], "subtotal_minor"),
        ([line(MAX, "1", "0.0001")], "total_minor"),  # the tax of 10^7 takes the total over
        ([line(MAX // 2 + 1, "1", "100")], "total_minor"),  # 100 % tax doubles it past the bound
    ],
)
def test_one_minor_unit_over_the_bound_is_refused_and_nothing_is_stored(
    db: Database, lines: list[LineInput], field: str
) -> None:
    client_id = make_client(db, make_organization(db))
    with pytest.raises(AmountTooLarge) as refused:
        invoice(db, client_id, *lines)
    assert refused.value.field == field
    with pytest.raises(AmountTooLarge):
        issue_credit_note(db, client_id=client_id, lines=lines, issue_date=TODAY, clock=fixed_clock)
    assert (count(db, Invoice), count(db, CreditNote)) == (0, 0)


def test_the_refusal_says_which_amount_and_the_bound() -> None:
    error = AmountTooLarge("amount", Money(MAX + 1, "USD"), Money(MAX, "USD"), line=2)
    assert human_message(error) == (
        "Line 2: the amount $100,000,000,000.01 is more than $100,000,000,000.00, "
        "the most one document can carry."
    )
    assert error.field == "lines.1.amount_minor"


def test_a_payment_at_the_bound_is_recorded_and_one_unit_over_is_refused(db: Database) -> None:
    client_id = make_client(db, make_organization(db))
    paid = record_payment(
        db, client_id=client_id, amount=Money(MAX, "USD"), method="cash", received_at=NOW, clock=fixed_clock
    )
    assert paid.unapplied == Money(MAX, "USD")
    with pytest.raises(AmountTooLarge) as refused:
        record_payment(
            db,
            client_id=client_id,
            amount=Money(MAX + 1, "USD"),
            method="cash",
            received_at=NOW,
            clock=fixed_clock,
        )
    assert human_message(refused.value).endswith("the most one payment can be.")
    assert count(db, Payment) == 1


def test_the_editor_keeps_a_draft_as_it_was_when_an_edit_goes_over_the_bound(db: Database) -> None:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    with db.reading() as session:
        client_public_id = session.get_one(Client, client_id).public_id
    fields: dict[str, Any] = {
        "client_public_id": client_public_id,
        "issue_date": TODAY,
        "due_date": TODAY + timedelta(days=14),
    }
    draft = create_draft(db, organization_id, kind=InvoiceKind.INVOICE, lines=[line(MAX)], **fields)
    assert draft.total_minor == MAX
    with pytest.raises(AmountTooLarge):
        update_draft(db, organization_id, draft.public_id, lines=[line(MAX), line(1)], **fields)
    with db.reading() as session:
        assert session.get_one(Invoice, draft.id).total_minor == MAX
    assert totals_problem([line(MAX), line(1)], "EUR", "de_DE") == (
        "The subtotal 100.000.000.000,01\xa0€ is more than 100.000.000.000,00\xa0€, "
        "the most one document can carry."
    )
