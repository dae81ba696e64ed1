"""Settings > Documents: number formats used by the next invoice, terms for new invoices, tax rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select, update

from models import Client, Invoice, InvoiceLine, NumberSequence, Organization, PortalUser, TaxRate
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.invoices import create_invoice
from services.tax_rates import list_tax_rates
from services.totals import LineInput
from tests.ui.admin.conftest import set_value, until


def organization_id() -> int:
    with portal.current().db.reading() as session:
        return session.scalars(select(Organization.id).order_by(Organization.id)).one()


def demo_client_id() -> int:
    with portal.current().db.reading() as session:
        return session.scalars(select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL)).one()


def new_invoice_number() -> str:
    line = LineInput("Design work", Decimal(1), 10000)
    day = date(2026, 6, 1)
    return create_invoice(
        portal.current().db, client_id=demo_client_id(), lines=[line], issue_date=day, due_date=day
    ).number


def sequence(kind: str) -> tuple[str, int, int] | None:
    with portal.current().db.reading() as session:
        row = session.scalars(select(NumberSequence).where(NumberSequence.kind == kind)).one_or_none()
        return (row.prefix, row.width, row.next_value) if row else None


def rates() -> dict[str, tuple[Decimal, bool]]:
    return {
        rate.name: (rate.rate_percent, rate.is_default)
        for rate in list_tax_rates(portal.current().db, organization_id())
    }


def example(user: User, kind: str = "invoice") -> str:
    (label,) = user.find(marker=f"number-{kind}-example").elements
    assert isinstance(label, ui.label)
    return label.text


def field(user: User, marker: str) -> Any:  # an input, textarea or checkbox
    (element,) = user.find(marker=marker).elements
    return element


def error_of(user: User, marker: str) -> str:
    return str(field(user, marker).props.get("error-message") or "")


async def test_a_new_number_format_is_used_by_the_next_invoice(owner: User) -> None:
    used = new_invoice_number()  # the demo's numbering: one more than the invoices made so far
    following = int(used.removeprefix("INV-")) + 1
    await owner.open("/admin/settings/documents")
    await until(lambda: example(owner) == f"INV-{following:05d}")
    set_value(owner, "number-invoice-prefix", "NW/2026-")
    set_value(owner, "number-invoice-width", "4")
    set_value(owner, "number-invoice-next", "120")
    await until(lambda: example(owner) == "NW/2026-0120")  # live, before saving
    owner.find(marker="documents-save").click()
    await owner.should_see("The document settings are saved.")
    assert sequence("invoice") == ("NW/2026-", 4, 120)
    assert new_invoice_number() == "NW/2026-0120"
    assert new_invoice_number() == "NW/2026-0121"


async def test_the_next_number_cannot_go_back_to_one_already_used(owner: User) -> None:
    used = new_invoice_number()
    before = sequence("invoice")
    await owner.open("/admin/settings/documents")
    set_value(owner, "number-invoice-next", "1")
    owner.find(marker="documents-save").click()
    await owner.should_see("Nothing was saved: 1 field needs correcting.")
    message = field(owner, "number-invoice-next").props["error-message"]
    assert "must never repeat" in message
    assert used in message
    assert sequence("invoice") == before
    # An older prefix whose numbers were used cannot be brought back to restart them either.
    set_value(owner, "number-invoice-prefix", "X-")
    set_value(owner, "number-invoice-next", "1")
    owner.find(marker="documents-save").click()
    await owner.should_see("The document settings are saved.")
    set_value(owner, "number-invoice-prefix", "INV-")
    set_value(owner, "number-invoice-next", "1")
    owner.find(marker="documents-save").click()
    await owner.should_see("Nothing was saved: 1 field needs correcting.")
    assert used in field(owner, "number-invoice-next").props["error-message"]
    assert new_invoice_number() == "X-00001"


async def test_bad_number_formats_and_terms_each_get_a_message(owner: User) -> None:
    before = (sequence("receipt"), sequence("credit_note"))
    await owner.open("/admin/settings/documents")
    set_value(owner, "number-receipt-prefix", "R #")
    set_value(owner, "number-credit_note-prefix", "CN-TOO-LONG-PREFIX")
    set_value(owner, "number-retainer-width", "11")
    set_value(owner, "number-retainer-next", "abc")
    set_value(owner, "payment-terms", "400")
    owner.find(marker="documents-save").click()
    await owner.should_see("Nothing was saved: 5 fields need correcting.")
    expected = {
        "number-receipt-prefix": "letters, digits",
        "number-credit_note-prefix": "at most 12",
        "number-retainer-width": "1 to 10",
        "number-retainer-next": "whole number",
        "payment-terms": "0 to 365",
    }
    for marker, words in expected.items():
        assert words in field(owner, marker).props["error-message"], marker
    assert (sequence("receipt"), sequence("credit_note")) == before
    # Two kinds of document with one prefix would give out the same numbers.
    owner.find(marker="documents-cancel").click()
    await until(lambda: field(owner, "payment-terms").value == "30")
    set_value(owner, "number-retainer-prefix", "INV-")
    set_value(owner, "number-retainer-next", "999")
    owner.find(marker="documents-save").click()
    await owner.should_see("Nothing was saved: 2 fields need correcting.")
    assert "use this prefix too" in field(owner, "number-invoice-prefix").props["error-message"]
    assert "use this prefix already" in field(owner, "number-retainer-prefix").props["error-message"]


async def test_terms_and_notes_for_new_invoices_are_saved(owner: User) -> None:
    await owner.open("/admin/settings/documents")
    set_value(owner, "payment-terms", "14")
    set_value(owner, "default-terms", "Payable within 14 days.")
    set_value(owner, "default-notes", "Thank you for your business!")
    owner.find(marker="documents-save").click()
    await owner.should_see("The document settings are saved.")
    with portal.current().db.reading() as session:
        row = session.get_one(Organization, organization_id())
        assert (row.payment_terms_days, row.default_terms, row.default_notes) == (
            14, "Payable within 14 days.", "Thank you for your business!"
        )  # fmt: skip
    await owner.open("/admin/settings/documents")  # a reload shows what is stored
    assert field(owner, "payment-terms").value == "14"


async def add_rate(user: User, name: str, rate: str, *, default: bool = False) -> None:
    user.find(marker="tax-add").click()
    await user.should_see("Add a tax rate")
    set_value(user, "tax-name", name)
    set_value(user, "tax-rate", rate)
    if default:
        set_value(user, "tax-is-default", True)
    user.find(marker="tax-save").click()


async def test_tax_rates_are_added_made_default_edited_and_deleted(owner: User) -> None:
    await owner.open("/admin/settings/documents")
    await add_rate(owner, "VAT", "20")
    await until(lambda: "VAT" in rates())
    await add_rate(owner, "Reduced VAT", "5.5 %", default=True)  # as the demo's en_US writes it
    await until(lambda: "Reduced VAT" in rates())
    assert rates() == {"Reduced VAT": (Decimal("5.5"), True), "VAT": (Decimal(20), False)}
    await owner.should_see("Default for new lines")

    (vat,) = [rate for rate in list_tax_rates(portal.current().db, organization_id()) if rate.name == "VAT"]
    owner.find(marker=f"tax-default-{vat.public_id}").click()
    await until(lambda: rates()["VAT"][1])
    assert rates()["Reduced VAT"][1] is False

    owner.find(marker=f"tax-edit-{vat.public_id}").click()
    await owner.should_see("Edit tax rate")
    set_value(owner, "tax-rate", "21")
    owner.find(marker="tax-save").click()
    await until(lambda: rates()["VAT"][0] == Decimal(21))

    # An invoice written with the rate keeps its tax when the rate is deleted.
    line = LineInput("Design work", Decimal(1), 10000, tax_rate_percent=Decimal(21), tax_name="VAT")
    day = date(2026, 6, 1)
    ref = create_invoice(
        portal.current().db, client_id=demo_client_id(), lines=[line], issue_date=day, due_date=day
    )
    owner.find(marker=f"tax-delete-{vat.public_id}").click()
    await owner.should_see("Delete the tax rate VAT 21 %?")
    owner.find(marker="tax-delete-confirm").click()
    await until(lambda: "VAT" not in rates())
    with portal.current().db.reading() as session:
        invoice = session.get_one(Invoice, ref.id)
        stored = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).one()
        assert (stored.tax_rate_percent, stored.tax_minor, invoice.tax_minor) == (Decimal(21), 2100, 2100)


async def test_bad_and_duplicate_tax_rates_are_refused(owner: User) -> None:
    await owner.open("/admin/settings/documents")
    await add_rate(owner, "VAT", "20")
    await until(lambda: "VAT" in rates())
    await add_rate(owner, "vat", "7")
    await owner.should_see("Please correct the fields marked in red.")
    assert "already" in field(owner, "tax-name").props["error-message"]
    set_value(owner, "tax-name", "")
    set_value(owner, "tax-rate", "120")
    owner.find(marker="tax-save").click()
    await until(lambda: "at most 100" in error_of(owner, "tax-rate"))
    assert "Enter a name" in field(owner, "tax-name").props["error-message"]
    set_value(owner, "tax-name", "Sales tax")
    set_value(owner, "tax-rate", "seven")
    owner.find(marker="tax-save").click()
    await until(lambda: "as a number" in error_of(owner, "tax-rate"))
    assert rates() == {"VAT": (Decimal(20), False)}
    with portal.current().db.reading() as session:
        assert session.scalar(select(TaxRate).where(TaxRate.name == "Sales tax")) is None
        assert session.get(Client, demo_client_id()) is not None


def e_invoices_saved() -> bool:
    with portal.current().db.reading() as session:
        return bool(session.scalars(select(Organization.e_invoices)).one())


async def test_e_invoices_are_refused_without_a_vat_id_and_then_turned_on(owner: User) -> None:
    await owner.open("/admin/settings/documents")
    await owner.should_see("Attach e-invoice data (Factur-X) to invoice PDFs")
    set_value(owner, "documents-e-invoices", True)
    owner.find(marker="documents-save").click()
    await owner.should_see("E-invoices carry your VAT ID")  # the demo business has no tax number yet
    (message,) = owner.find(marker="documents-e-invoices-error").elements
    assert isinstance(message, ui.label)
    assert message.text.startswith("E-invoices carry your VAT ID: enter it in Settings > Business")
    assert e_invoices_saved() is False

    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(tax_id="US 94-1234567"))  # a tax number, not a VAT ID
    owner.find(marker="documents-save").click()
    await owner.should_see("Nothing was saved")
    assert e_invoices_saved() is False

    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(tax_id="DE123456789"))
    owner.find(marker="documents-save").click()
    await owner.should_see("The document settings are saved.")
    await until(e_invoices_saved)
    assert message.text == ""

    await owner.open("/admin/settings/documents")
    assert field(owner, "documents-e-invoices").value is True
