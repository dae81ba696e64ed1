"""An invoice laid out as a document: parties and dates, line items, totals, amounts applied, notes.

Its party block and line-item table (``party_details``, ``line_items``) also lay out the credit note.
"""

from __future__ import annotations

from collections.abc import Sequence

from nicegui import ui

from components.tables import PHONE_HIDDEN, compact_on_phone
from services.dates import format_day
from services.i18n import _
from services.invoice_detail import DocumentLine, InvoiceDocument, Party
from services.money import Money, format_money


def invoice_document(document: InvoiceDocument) -> None:
    """The whole document in a bordered card, as wide as its column."""
    with ui.card().classes("w-full p-0 gap-0").props("flat bordered"):
        _parties(document)
        _lines(document)
        _totals(document)
        _notes(document)


def _money(document: InvoiceDocument, value: Money) -> str:
    return format_money(value, document.locale)


def party_details(title: str, party: Party) -> None:
    """A party under ``title`` (From, Bill to): its name, company, address and contact details."""
    with ui.column().classes("gap-0 min-w-[14rem]"):
        ui.label(title).classes("text-xs uppercase tracking-wide text-grey-7 mb-1")
        ui.label(party.company or party.name).classes("font-semibold")
        if party.company and party.name != party.company:
            ui.label(party.name)
        for line in (*party.address_lines, party.phone, party.email, party.website):
            if line:
                ui.label(line).classes("text-sm text-grey-9")


def _parties(document: InvoiceDocument) -> None:
    number_label = _("Retainer invoice number") if document.is_retainer else _("Invoice number")
    with ui.row().classes("w-full p-5 gap-8 justify-between border-b"):
        party_details(_("From"), document.business)
        party_details(_("Bill to"), document.client)
        with ui.grid(columns=2).classes("gap-x-4 gap-y-1 text-sm self-start"):
            for label, value in (
                (number_label, document.number),
                (_("Invoice date"), format_day(document.issue_date, document.locale)),
                (_("Due date"), format_day(document.due_date, document.locale)),
            ):
                ui.label(label).classes("text-grey-7")
                ui.label(value).classes("font-medium")


def _lines(document: InvoiceDocument) -> None:
    line_items(document.lines, document.locale)


def line_items(lines: Sequence[DocumentLine], locale: str) -> None:
    """The line-item table: description, quantity, rate, tax and amount (rate and tax hidden on a phone)."""
    columns = [
        {"name": "description", "label": _("Description"), "field": "description", "align": "left",
         "style": "white-space: normal; min-width: 12rem"},
        {"name": "quantity", "label": _("Quantity"), "field": "quantity", "align": "right"},
        {"name": "rate", "label": _("Rate"), "field": "rate", "align": "right", **PHONE_HIDDEN},
        {"name": "tax", "label": _("Tax"), "field": "tax", "align": "right", **PHONE_HIDDEN},
        {"name": "amount", "label": _("Amount"), "field": "amount", "align": "right"},
    ]  # fmt: skip
    rows = []
    for index, line in enumerate(lines):
        tax = f"{line.tax_rate_percent.normalize():f} %" if line.tax_rate_percent else "-"
        discount = f" (-{line.discount_percent.normalize():f} %)" if line.discount_percent else ""
        rows.append({
            "id": index,
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "rate": format_money(line.rate, locale) + discount,
            "tax": f"{line.tax_name} {tax}".strip() if line.tax_rate_percent else tax,
            "amount": format_money(line.amount, locale),
        })  # fmt: skip
    no_lines = _("No lines yet.")
    compact_on_phone(
        ui.table(columns=columns, rows=rows, row_key="id")
        .props(f'flat hide-bottom wrap-cells no-data-label="{no_lines}"')
        .classes("w-full border-b")
    )


def _totals(document: InvoiceDocument) -> None:
    figures: list[tuple[str, str, str, str]] = [
        (_("Subtotal"), _money(document, document.subtotal), "", "subtotal")
    ]
    if document.discount.minor:
        figures.append((_("Discount"), "-" + _money(document, document.discount), "", "discount"))
    figures += [
        (_("Tax"), _money(document, document.tax), "", "tax"),
        (_("Total"), _money(document, document.total), "font-semibold", "total"),
    ]
    for applied in document.applied:
        label = f"{applied.label} ({format_day(applied.applied_on, document.locale)})"
        figures.append((label, "-" + _money(document, applied.amount), "text-green-9", "applied"))
    figures.append((_("Balance Due"), _money(document, document.balance_due), "text-lg font-bold", "balance"))
    with ui.row().classes("w-full justify-end p-5 border-b"):
        with ui.grid(columns="auto auto").classes("gap-x-8 gap-y-2 text-sm"):
            for label, value, style, marker in figures:
                ui.label(label).classes(f"text-end text-grey-8 {style}")
                ui.label(value).classes(f"text-end tabular-nums {style}").mark(f"document-{marker}")


def _notes(document: InvoiceDocument) -> None:
    if not (document.notes or document.terms):
        return
    with ui.column().classes("w-full p-5 gap-3"):
        for title, text in ((_("Notes"), document.notes), (_("Terms"), document.terms)):
            if text:
                ui.label(title).classes("text-xs uppercase tracking-wide text-grey-7")
                ui.label(text).classes("text-sm whitespace-pre-line")
