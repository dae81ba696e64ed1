"""Drafts as the back office edits them: lines replaced and totals recomputed, only while a draft."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import Client, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Organization
from services.database import Database
from services.draft_invoices import (
    MAX_LINES,
    MAX_TEXT_LENGTH,
    create_draft,
    draft_defaults,
    editable_draft,
    parse_line,
    update_draft,
)
from services.errors import InvalidDetails, InvalidStatusChange, NotFound
from services.i18n import using_language
from services.invoices import send_invoice
from services.totals import LineInput, document_totals
from tests.factories import TODAY, fixed_clock, make_client, make_organization

WORKSHOP = LineInput("Design workshop", Decimal(3), 1999, Decimal(10), Decimal(20), "VAT")
PRINTING = LineInput("Printing", Decimal(2), 5000)


@pytest.fixture
def business(db: Database) -> tuple[int, str]:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    with db.reading() as session:
        return organization_id, session.get_one(Client, client_id).public_id


def new_draft(db: Database, business: tuple[int, str], lines: list[LineInput]) -> str:
    organization_id, client = business
    return create_draft(
        db,
        organization_id,
        client_public_id=client,
        kind=InvoiceKind.INVOICE,
        issue_date=TODAY,
        due_date=TODAY + timedelta(days=30),
        lines=lines,
        clock=fixed_clock,
    ).public_id


def update(db: Database, business: tuple[int, str], public_id: str, lines: list[LineInput], **changes):
    organization_id, client = business
    fields = {"client_public_id": client, "issue_date": TODAY, "due_date": TODAY + timedelta(days=14)}
    return update_draft(db, organization_id, public_id, lines=lines, **{**fields, **changes})


def stored(db: Database, public_id: str) -> tuple[Invoice, list[tuple[str, int]]]:
    with db.reading() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.public_id == public_id)).one()
        lines = session.execute(
            select(InvoiceLine.description, InvoiceLine.amount_minor)
            .where(InvoiceLine.invoice_id == invoice.id)
            .order_by(InvoiceLine.position)
        ).all()
        session.expunge(invoice)
        return invoice, [(description, amount) for description, amount in lines]


def test_a_draft_stores_the_totals_of_services_totals(db: Database, business: tuple[int, str]) -> None:
    public_id = new_draft(db, business, [WORKSHOP, PRINTING])
    expected = document_totals([WORKSHOP, PRINTING], "USD")
    invoice, _ = stored(db, public_id)
    assert (invoice.subtotal_minor, invoice.discount_minor, invoice.tax_minor, invoice.total_minor) == (
        15997,
        600,
        1079,
        16476,
    )
    assert invoice.total_minor == expected.total.minor == invoice.balance_due_minor


def test_updating_a_draft_replaces_its_lines_and_recomputes_its_totals(
    db: Database, business: tuple[int, str]
) -> None:
    public_id = new_draft(db, business, [WORKSHOP, PRINTING])
    view = update(
        db, business, public_id, [LineInput("Logo", Decimal(2), 12000, tax_rate_percent=Decimal(10))]
    )
    invoice, lines = stored(db, public_id)
    assert lines == [("Logo", 24000)]
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (24000, 2400, 26400)
    assert invoice.balance_due_minor == 26400 == view.total_minor
    assert invoice.due_date == TODAY + timedelta(days=14)


def test_a_draft_may_be_saved_without_lines_for_now(db: Database, business: tuple[int, str]) -> None:
    public_id = new_draft(db, business, [WORKSHOP])
    update(db, business, public_id, [])
    invoice, lines = stored(db, public_id)
    assert (lines, invoice.total_minor, invoice.status) == ([], 0, InvoiceStatus.DRAFT)


def test_a_sent_invoice_is_not_edited(db: Database, business: tuple[int, str]) -> None:
    public_id = new_draft(db, business, [WORKSHOP])
    invoice, before = stored(db, public_id)
    send_invoice(db, invoice.id, clock=fixed_clock)
    with pytest.raises(InvalidStatusChange):
        update(db, business, public_id, [PRINTING])
    with pytest.raises(InvalidStatusChange):
        editable_draft(db, business[0], public_id)
    after, lines = stored(db, public_id)
    assert (lines, after.total_minor) == (before, invoice.total_minor)


@pytest.mark.parametrize(
    ("lines", "changes", "field"),
    [
        ([LineInput("Refund", Decimal(-1), 100)], {}, "line 1"),
        ([WORKSHOP, LineInput("", Decimal(1), 100)], {}, "line 2"),
        ([WORKSHOP], {"due_date": TODAY - timedelta(days=1)}, "due_date"),
        ([WORKSHOP], {"client_public_id": ""}, "client"),
        ([WORKSHOP], {"client_public_id": "not-a-client"}, "client"),
    ],
    ids=["negative quantity", "no description", "due before issue", "no client", "unknown client"],
)
def test_bad_input_changes_nothing(
    db: Database, business: tuple[int, str], lines: list[LineInput], changes: dict, field: str
) -> None:
    public_id = new_draft(db, business, [PRINTING])
    with pytest.raises(InvalidDetails) as refused:
        update(db, business, public_id, lines, **changes)
    assert field in refused.value.errors
    invoice, stored_lines = stored(db, public_id)
    assert (stored_lines, invoice.total_minor) == ([("Printing", 10000)], 10000)


def test_a_refused_draft_is_explained_in_the_readers_language(
    db: Database, business: tuple[int, str]
) -> None:
    public_id = new_draft(db, business, [PRINTING])
    too_long = "x" * (MAX_TEXT_LENGTH + 1)
    lines = [LineInput("Refund", Decimal(-1), 100), *[PRINTING] * MAX_LINES]

    with using_language("de"), pytest.raises(InvalidDetails) as refused:
        update(db, business, public_id, lines, notes=too_long, terms=too_long)

    errors = refused.value.errors
    assert errors["lines"] == "Eine Rechnung kann höchstens 200 Positionen haben."
    assert errors["line 1"] == "Menge: muss größer als null sein."
    assert errors["notes"] == "„Anmerkungen“ darf höchstens 5.000 Zeichen lang sein."
    assert errors["terms"] == "„Bedingungen“ darf höchstens 5.000 Zeichen lang sein."
    invoice, stored_lines = stored(db, public_id)
    assert (stored_lines, invoice.total_minor) == ([("Printing", 10000)], 10000)


def test_another_business_cannot_edit_the_draft(db: Database, business: tuple[int, str]) -> None:
    public_id = new_draft(db, business, [PRINTING])
    other = make_organization(db, "Other Business")
    with pytest.raises(NotFound):
        update(db, (other, business[1]), public_id, [WORKSHOP])


def test_a_refused_new_draft_writes_nothing(db: Database, business: tuple[int, str]) -> None:
    with pytest.raises(InvalidDetails):
        new_draft(db, business, [LineInput("Refund", Decimal(-2), 100)])
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0


@pytest.mark.parametrize(
    ("quantity", "rate", "discount", "field"),
    [("abc", "10", "", "quantity"), ("1", "ten", "", "rate"), ("1", "1.234", "", "rate"),
     ("1", "5", "101", "discount"), ("1", "1,5", "", "rate"), ("", "5", "", "quantity")],
)  # fmt: skip
def test_typed_numbers_that_a_line_cannot_carry_are_named(
    quantity: str, rate: str, discount: str, field: str
) -> None:
    with pytest.raises(InvalidDetails) as refused:
        parse_line(
            description="Work",
            quantity=quantity,
            rate=rate,
            discount_percent=discount,
            tax_name="",
            tax_rate_percent=Decimal(0),
            currency="USD",
            locale="en_US",
        )
    assert field in refused.value.errors


def test_typed_rates_are_read_in_the_currency_minor_unit() -> None:
    def rate(text: str, currency: str) -> int:
        return parse_line(
            description="Work",
            quantity="1",
            rate=text,
            discount_percent="",
            tax_name="",
            tax_rate_percent=Decimal(0),
            currency=currency,
            locale="en_US",
        ).unit_price_minor

    assert (rate("19.99", "USD"), rate("1500", "JPY"), rate("1.234", "KWD")) == (1999, 1500, 1234)


def test_a_line_is_read_as_the_business_locale_writes_numbers() -> None:
    line = parse_line(
        description="Translation",
        quantity="2,5",
        rate="1.234,50",
        discount_percent="7,5",
        tax_name="",
        tax_rate_percent=Decimal(0),
        currency="EUR",
        locale="de_DE",
    )
    assert (line.quantity, line.unit_price_minor, line.discount_percent) == (
        Decimal("2.5"),
        123450,
        Decimal("7.5"),
    )


@pytest.mark.parametrize(
    ("quantity", "rate", "field", "message"),
    [("1", "1.23", "rate", "“1.23” could mean 1,23\xa0€ or 123,00\xa0€"),
     ("2.5", "10", "quantity", "“2.5” could mean 2,5 or 25"),
     ("1", "1,505", "rate", "Amounts in EUR have at most 2 decimals."),
     ("1", "-5", "rate", "The rate cannot be negative.")],
)  # fmt: skip
def test_a_number_the_locale_does_not_write_so_is_refused_with_its_reason(
    quantity: str, rate: str, field: str, message: str
) -> None:
    with pytest.raises(InvalidDetails) as refused:
        parse_line(
            description="Work",
            quantity=quantity,
            rate=rate,
            discount_percent="",
            tax_name="",
            tax_rate_percent=Decimal(0),
            currency="EUR",
            locale="de_DE",
        )
    assert message in refused.value.errors[field]


@pytest.mark.parametrize(
    ("time_zone", "day"),
    [
        ("UTC", date(2026, 6, 15)),
        ("Pacific/Kiritimati", date(2026, 6, 16)),
        ("Pacific/Pago_Pago", date(2026, 6, 14)),
    ],
)
def test_a_new_documents_dates_start_on_the_businesss_day(db: Database, time_zone: str, day: date) -> None:
    organization_id = make_organization(db)
    with db.transaction() as session:
        organization = session.get_one(Organization, organization_id)
        organization.time_zone, organization.payment_terms_days = time_zone, 14
    now = datetime(2026, 6, 15, 10, 30, tzinfo=UTC)  # already the 16th at Kiritimati, still the 14th in Samoa

    defaults = draft_defaults(db, organization_id, now=now)

    assert (defaults.issue_date, defaults.due_date) == (day, day + timedelta(days=14))
