"""One credit note: its lines and totals, what it was applied to or refunded, and the credit that remains;
Download PDF and Print."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from nicegui import ui

from components.branding import business_branding
from components.frame import frame
from components.invoice_document import line_items, party_details
from components.offload import io_bound
from components.printing import print_pdf
from components.status import status_badge
from services import portal
from services.credit_notes import CreditNoteDocument, CreditUse, get_credit_note
from services.dates import format_day
from services.errors import NotFound
from services.i18n import _
from services.money import Money, format_money
from services.principal import Principal

Formatter = Callable[[Money], str]


@ui.page("/credit-notes/{public_id}")
async def credit_note_page(request: Request, public_id: str) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        document = await io_bound(get_credit_note, current.db, principal, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This credit note does not exist.")) from None
    branding = await business_branding(current.db)
    locale = document.locale

    def money(value: Money) -> str:
        return format_money(value, locale)

    title = _("{title} {number}").format(title=document.title, number=document.number)
    with frame(title, branding=branding, principal=principal, active="/"):
        _toolbar(document, money)
        with ui.card().classes("w-full p-0 gap-0").props("flat bordered"):
            _parties(document)
            line_items(document.lines, locale)
            _totals(document, money)
            _reason(document)


def _toolbar(document: CreditNoteDocument, money: Formatter) -> None:
    with ui.row().classes("w-full items-center gap-3 -mt-4"):
        status_badge(document.status_label)
        ui.space()
        ui.label(_("Credit Remaining {amount}").format(amount=money(document.remaining))).classes(
            "text-lg font-semibold"
        ).mark("credit-remaining")
        pdf = f"/credit-notes/{document.public_id}/pdf"
        with ui.row().classes("gap-2 max-sm:w-full"):
            ui.button(_("Download PDF"), icon="download").props(
                f'outline no-caps no-wrap href="{pdf}?download=1"'
            ).classes("max-sm:flex-1").mark("credit-note-download")
            ui.button(_("Print"), icon="print", on_click=lambda: print_pdf(pdf)).props(
                "outline no-caps no-wrap"
            ).classes("max-sm:flex-1")


def _parties(document: CreditNoteDocument) -> None:
    with ui.row().classes("w-full p-5 gap-8 justify-between border-b"):
        party_details(_("From"), document.business)
        party_details(_("Credit to"), document.client)
        with ui.grid(columns=2).classes("gap-x-4 gap-y-1 text-sm self-start"):
            for label, value in (
                (_("Credit note number"), document.number),
                (_("Credit note date"), format_day(document.issue_date, document.locale)),
            ):
                ui.label(label).classes("text-grey-7")
                ui.label(value).classes("font-medium")


def _totals(document: CreditNoteDocument, money: Formatter) -> None:
    """Subtotal to total, then each use of the credit (an invoice it paid is a link), then what remains."""
    with ui.row().classes("w-full justify-end p-5 border-b"):
        with ui.grid(columns="auto auto").classes("gap-x-8 gap-y-2 text-sm"):
            figures = [(_("Subtotal"), money(document.subtotal), "")]
            if document.discount.minor:
                figures.append((_("Discount"), "-" + money(document.discount), ""))
            figures += [
                (_("Tax"), money(document.tax), ""),
                (_("Total"), money(document.total), "font-semibold"),
            ]
            for label, value, style in figures:
                ui.label(label).classes(f"text-end text-grey-8 {style}")
                ui.label(value).classes(f"text-end tabular-nums {style}")
            for use in document.uses:
                _use(use, document.locale, money)
            ui.label(_("Credit Remaining")).classes("text-end text-grey-8 text-lg font-bold")
            ui.label(money(document.remaining)).classes("text-end tabular-nums text-lg font-bold").mark(
                "credit-note-remaining"
            )


def _use(use: CreditUse, locale: str, money: Formatter) -> None:
    """A use of the credit: "Applied to INV-00012 on Oct 7, 2026", a link to that invoice, or a refund."""
    day = format_day(use.day, locale)
    if use.kind == "applied":
        text = _("Applied to {number} on {date}").format(number=use.invoice_number, date=day)
        ui.link(text, f"/invoices/{use.invoice_public_id}").classes("text-end text-primary").mark(
            "credit-note-use"
        )
    else:
        ui.label(_("Refunded on {date}").format(date=day)).classes("text-end text-grey-8").mark(
            "credit-note-use"
        )
    ui.label("-" + money(use.amount)).classes("text-end tabular-nums text-green-9")


def _reason(document: CreditNoteDocument) -> None:
    if not document.reason.strip():
        return
    with ui.column().classes("w-full p-5 gap-3"):
        ui.label(_("Reason")).classes("text-xs uppercase tracking-wide text-grey-7")
        ui.label(document.reason).classes("text-sm whitespace-pre-line")
