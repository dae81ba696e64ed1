"""The draft editor: client, kind, dates, lines with totals computed live by services.totals, and the
bad inputs it refuses without saving anything."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select

from models import Client, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Organization, TaxRate
from services import portal
from services.money import Money, format_money
from services.totals import LineInput, document_totals
from tests.ui.admin.conftest import set_value, until

WAIT = 100  # should_see retries (0.1 s apart) for what appears after a save on a busy machine


def demo_client(name: str = "Bluebird Cafe") -> tuple[str, str]:
    with portal.current().db.reading() as session:
        client = session.scalars(select(Client).where(Client.display_name == name)).one()
        return client.public_id, client.currency


def add_tax_rate(name: str, rate: str, *, default: bool = False) -> str:
    with portal.current().db.transaction() as session:
        organization_id = session.scalars(select(Organization.id).order_by(Organization.id)).first()
        assert organization_id is not None
        tax = TaxRate(
            organization_id=organization_id,
            name=name,
            rate_percent=Decimal(rate),
            is_default=default,
            created_at=portal.current().clock(),
        )
        session.add(tax)
        session.flush()
        return tax.public_id


def invoice_count() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(Invoice)) or 0


def newest_invoice() -> Invoice:
    with portal.current().db.reading() as session:
        invoice = session.scalars(select(Invoice).order_by(Invoice.id.desc())).first()
        assert invoice is not None
        session.expunge(invoice)
        return invoice


def lines_of(invoice_id: int) -> list[tuple[str, Decimal, int]]:
    with portal.current().db.reading() as session:
        return [
            (line.description, line.quantity, line.unit_price_minor)
            for line in session.scalars(
                select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)
            )
        ]


def type_line(
    user: User, index: int, *, description: str, quantity: str, rate: str, discount: str = ""
) -> None:
    for marker, value in (
        ("line-description", description),
        ("line-quantity", quantity),
        ("line-rate", rate),
        ("line-discount", discount),
    ):
        in_order(user, marker)[index].value = value


def in_order(user: User, marker: str) -> list[Any]:
    """The elements carrying ``marker`` in the order they were made (``find`` gives a set)."""
    return sorted(user.find(marker=marker).elements, key=lambda element: element.id)


def shown(user: User, marker: str) -> str:
    return next(iter(user.find(marker=marker).elements)).text  # type: ignore[attr-defined]


async def test_a_draft_with_two_lines_shows_and_stores_the_totals_of_services_totals(owner: User) -> None:
    vat = add_tax_rate("VAT", "20", default=True)
    client_id, currency = demo_client()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    await owner.should_see("Currency: USD")
    type_line(owner, 0, description="Design workshop", quantity="3", rate="19.99", discount="10")
    owner.find(marker="add-line").click()
    type_line(owner, 1, description="Printing", quantity="2", rate="50")
    taxes = in_order(owner, "line-tax")
    assert taxes[0].value == vat  # the default rate is preselected
    taxes[1].value = ""  # no tax on printing

    expected = document_totals(
        [
            LineInput("Design workshop", Decimal(3), 1999, Decimal(10), Decimal(20), "VAT"),
            LineInput("Printing", Decimal(2), 5000),
        ],
        currency,
    )
    assert expected.total == Money(16476, "USD")  # 59.97 - 6.00 + 10.79 + 100.00
    assert shown(owner, "totals-subtotal") == format_money(expected.subtotal)
    assert shown(owner, "totals-discount") == "-" + format_money(expected.discount)
    assert shown(owner, "totals-tax") == format_money(expected.tax)
    assert shown(owner, "totals-total") == format_money(expected.total)

    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    invoice = newest_invoice()
    assert (invoice.status, invoice.kind, invoice.total_minor) == ("draft", "invoice", expected.total.minor)
    assert (invoice.tax_minor, invoice.discount_minor) == (expected.tax.minor, expected.discount.minor)
    await owner.should_see(format_money(expected.total))


async def test_totals_follow_the_typing(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Hours", quantity="2", rate="10")
    assert shown(owner, "totals-total") == "$20.00"
    type_line(owner, 0, description="Hours", quantity="2.5", rate="10")
    assert shown(owner, "totals-total") == "$25.00"


async def test_a_negative_quantity_is_refused_on_its_line_and_nothing_is_saved(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Refund of sorts", quantity="-2", rate="10")
    await owner.should_see("The quantity cannot be negative.")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("Nothing was saved", retries=WAIT)
    assert invoice_count() == before


async def test_a_rate_that_is_not_a_number_is_refused(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Hours", quantity="1", rate="ten")
    await owner.should_see("Enter the rate as a number, like 123,456.50.")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("Nothing was saved", retries=WAIT)
    assert invoice_count() == before


async def test_a_due_date_before_the_issue_date_is_refused(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Hours", quantity="1", rate="10")
    set_value(owner, "issue-date", "2026-03-10")
    set_value(owner, "due-date", "2026-03-01")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The due date cannot be before the issue date.", retries=WAIT)
    assert invoice_count() == before


async def test_an_invoice_without_a_client_is_refused(owner: User) -> None:
    before = invoice_count()
    await owner.open("/admin/invoices/new")
    type_line(owner, 0, description="Hours", quantity="1", rate="10")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("Choose a client.", retries=WAIT)
    assert invoice_count() == before


async def test_the_due_date_follows_the_issue_date_by_the_payment_terms(owner: User) -> None:
    await owner.open("/admin/invoices/new")
    with portal.current().db.reading() as session:
        days = session.scalars(select(Organization.payment_terms_days)).first()
    assert days is not None
    set_value(owner, "issue-date", "2026-03-10")
    due = next(iter(owner.find(marker="due-date").elements)).value  # type: ignore[attr-defined]
    assert due == (date(2026, 3, 10) + timedelta(days=days)).isoformat()


async def test_a_retainer_invoice_is_made_with_kind_retainer(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open("/admin/invoices")
    owner.find(kind=ui.button, content="New retainer invoice").click()
    await owner.should_see(marker="client", retries=WAIT)
    await owner.should_see("Retainer invoice")
    set_value(owner, "client", client_id)
    type_line(owner, 0, description="Advance for the spring campaign", quantity="1", rate="500")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    invoice = newest_invoice()
    assert (invoice.kind, invoice.status, invoice.total_minor) == (InvoiceKind.RETAINER, "draft", 50000)


async def test_editing_a_draft_replaces_its_lines_and_totals(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Logo sketches", quantity="1", rate="100")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    invoice = newest_invoice()

    await owner.open(f"/admin/invoices/{invoice.public_id}/edit")
    await owner.should_see(f"Edit invoice {invoice.number}")
    type_line(owner, 0, description="Logo sketches, revised", quantity="2", rate="120")
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    await until(lambda: newest_invoice().total_minor == 24000)
    assert lines_of(invoice.id) == [("Logo sketches, revised", Decimal(2), 12000)]


async def test_a_sent_invoice_cannot_be_edited(owner: User) -> None:
    with portal.current().db.reading() as session:
        sent = session.scalars(select(Invoice).where(Invoice.status == InvoiceStatus.SENT)).first()
        assert sent is not None
        public_id, number = sent.public_id, sent.number
    await owner.open(f"/admin/invoices/{public_id}/edit")
    await owner.should_see(f"Invoice {number} is sent: only drafts can be edited.")
    await owner.should_not_see("Save as draft")
