"""A quote laid out as a document (the customer's page and the business's alike): parties and dates,
line items, totals with the deposit asked on acceptance, notes; and the customer's answer to it."""

from __future__ import annotations

from nicegui import ui

from components.invoice_document import line_items, party_details
from services.dates import format_day, format_moment
from services.i18n import _
from services.money import Money, format_money
from services.quote_documents import QuoteDocument


def quote_document(document: QuoteDocument) -> None:
    """The whole quote in a bordered card, as wide as its column."""
    with ui.card().classes("w-full p-0 gap-0").props("flat bordered").mark("quote-document"):
        with ui.row().classes("w-full p-5 gap-8 justify-between border-b"):
            party_details(_("From"), document.business)
            party_details(_("Quote for"), document.client)
            with ui.grid(columns=2).classes("gap-x-4 gap-y-1 text-sm self-start"):
                for label, value in (
                    (_("Quote number"), document.number),
                    (_("Quote date"), format_day(document.issue_date, document.locale)),
                    (_("Valid until"), format_day(document.valid_until, document.locale)),
                ):
                    ui.label(label).classes("text-grey-7")
                    ui.label(value).classes("font-medium")
        line_items(document.lines, document.locale)
        _totals(document)
        _notes(document)


def _totals(document: QuoteDocument) -> None:
    def money(value: Money) -> str:
        return format_money(value, document.locale)

    figures: list[tuple[str, str, str, str]] = [(_("Subtotal"), money(document.subtotal), "", "subtotal")]
    if document.discount.minor:
        figures.append((_("Discount"), "-" + money(document.discount), "", "discount"))
    figures += [
        (_("Tax"), money(document.tax), "", "tax"),
        (_("Total"), money(document.total), "text-lg font-bold", "total"),
    ]
    if document.deposit_percent:
        percent = f"{document.deposit_percent.normalize():f}"
        # A no-break space: "30 %" is not split over two lines on a phone.
        label = _("Deposit on acceptance ({percent} %)").format(percent=percent).replace(" %", "\u00a0%")
        figures.append((label, money(document.deposit), "font-semibold", "deposit"))
    with ui.row().classes("w-full justify-end p-5 border-b"):
        with ui.grid(columns="auto auto").classes("gap-x-8 gap-y-2 text-sm"):
            for label, value, style, marker in figures:
                ui.label(label).classes(f"text-end text-grey-8 {style}")
                ui.label(value).classes(f"text-end tabular-nums {style}").mark(f"quote-{marker}")


def _notes(document: QuoteDocument) -> None:
    if not (document.notes or document.terms):
        return
    with ui.column().classes("w-full p-5 gap-3"):
        for title, text in ((_("Notes"), document.notes), (_("Terms"), document.terms)):
            if text:
                ui.label(title).classes("text-xs uppercase tracking-wide text-grey-7")
                ui.label(text).classes("text-sm whitespace-pre-line")


def answer_summary(document: QuoteDocument, *, invoice_path: str, show_address: bool = True) -> None:
    """The customer's answer, as it was given: the signature, who, when and from where; or the reason
    for a decline. An accepted quote links to its invoice at ``invoice_path`` + its public id."""
    answer = document.answer
    if answer is None:
        return
    if answer.accepted:
        with (
            ui.card()
            .classes("w-full gap-2 bg-green-1 text-green-10")
            .props("flat bordered")
            .mark("quote-answer")
        ):
            with ui.row().classes("items-center gap-2"):
                ui.icon("verified").classes("text-xl")
                ui.label(_("Accepted")).classes("text-lg font-semibold")
            ui.label(_("Signed: {name}").format(name=answer.signature)).classes("text-base font-semibold")
            when = format_moment(answer.at)
            line = (
                _("Accepted by {person} on {moment} from the address {address}.")
                if show_address
                else _("Accepted by {person} on {moment}.")
            )
            ui.label(line.format(person=answer.by, moment=when, address=answer.ip_address)).classes("text-sm")
            if document.invoice_public_id:
                with ui.row().classes("items-center gap-1 text-sm"):
                    ui.label(
                        _("Converted to the retainer invoice")
                        if document.invoice_is_retainer
                        else _("Converted to the invoice")
                    )
                    ui.link(document.invoice_number, f"{invoice_path}{document.invoice_public_id}").classes(
                        "text-primary font-medium"
                    ).mark("quote-invoice-link")
        return
    with ui.card().classes("w-full gap-2 bg-grey-2").props("flat bordered").mark("quote-answer"):
        with ui.row().classes("items-center gap-2"):
            ui.icon("cancel").classes("text-xl text-grey-8")
            ui.label(_("Declined")).classes("text-lg font-semibold")
        ui.label(
            _("Declined by {person} on {moment}.").format(person=answer.by, moment=format_moment(answer.at))
        )
        ui.label(_("Reason: {reason}").format(reason=answer.reason)).classes("text-sm whitespace-pre-line")
