"""One payment: its receipt details, each invoice it paid with what is still due, Download PDF and Print."""

from __future__ import annotations

from fastapi import HTTPException, Request
from nicegui import ui

from components.branding import business_branding
from components.frame import frame
from components.offload import io_bound
from components.printing import print_pdf
from pages.payments import STATUS_COLORS
from services import portal
from services.dates import format_day
from services.errors import NotFound
from services.gateways.sandbox import SANDBOX_NOTICE
from services.i18n import _
from services.i18n.terms import term
from services.money import Money, format_money
from services.payments_made import APPLIED_KINDS, PaymentDetail, get_payment
from services.principal import Principal


@ui.page("/payments/{public_id}")
async def payment_page(request: Request, public_id: str) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        payment = await io_bound(get_payment, current.db, principal, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This payment does not exist.")) from None
    branding = await business_branding(current.db)
    title = (
        _("Payment {number}").format(number=payment.receipt_number)
        if payment.receipt_number
        else _("Payment")
    )
    with frame(title, branding=branding, principal=principal, active="/payments"):
        _toolbar(payment)
        if payment.is_sandbox:
            with ui.row().classes("w-full items-center gap-2 rounded bg-amber-1 text-brown-10 p-3 -mt-2"):
                ui.icon("science")
                ui.label(term(SANDBOX_NOTICE)).classes("font-medium")
        with ui.card().classes("w-full p-5 gap-4").props("flat bordered"):
            _facts(payment)
            _applied(payment)


def _money(payment: PaymentDetail, value: Money) -> str:
    return format_money(value, payment.locale)


def _toolbar(payment: PaymentDetail) -> None:
    with ui.row().classes("w-full items-center gap-3 -mt-4"):
        ui.link(_("← Payments Made"), "/payments").classes("text-primary no-underline")
        ui.badge(payment.status_label, color=STATUS_COLORS.get(payment.status_label, "grey-7")).classes(
            "text-sm px-2"
        ).props("rounded")
        ui.space()
        ui.label(_money(payment, payment.amount)).classes("text-lg font-semibold").mark("payment-amount")
        if payment.is_receipt:
            pdf = f"/payments/{payment.public_id}/pdf"
            ui.button(
                _("Download PDF"), icon="download", on_click=lambda: ui.navigate.to(f"{pdf}?download=1")
            ).props("outline no-caps").mark("receipt-download")
            ui.button(_("Print"), icon="print", on_click=lambda: print_pdf(pdf)).props("flat no-caps")


def _facts(payment: PaymentDetail) -> None:
    rows = [
        (_("Receipt number"), payment.receipt_number or _("None: the payment did not go through")),
        (_("Date"), format_day(payment.paid_on.date(), payment.locale)),
        (_("Method"), payment.method),
        (_("Amount"), _money(payment, payment.amount)),
        (_("Kind"), _("Retainer payment") if payment.is_retainer else _("Invoice payment")),
    ]
    if payment.retainer_invoice_number:
        rows.append((_("Retainer invoice"), payment.retainer_invoice_number))
    if payment.failure_message:
        rows.append((_("Why it failed"), term(payment.failure_message)))
    with ui.grid(columns="minmax(8rem, auto) 1fr").classes("w-full gap-x-6 gap-y-2 text-sm"):
        for label, value in rows:
            ui.label(label).classes("text-grey-7")
            ui.label(value).classes("text-grey-10 break-words")


def _applied(payment: PaymentDetail) -> None:
    if payment.applied:
        ui.separator()
        ui.label(_("What it paid")).classes("font-semibold")
        columns = [
            {"name": "invoice", "label": _("Invoice"), "field": "invoice", "align": "left"},
            {
                "name": "how",
                "label": _("How"),
                "field": "how",
                "align": "left",
                "classes": "max-sm:hidden",
                "headerClasses": "max-sm:hidden",
            },
            {"name": "amount", "label": _("Amount applied"), "field": "amount", "align": "right"},
            {"name": "left", "label": _("Still due"), "field": "left", "align": "right"},
        ]
        rows = [
            {
                "id": line.invoice_public_id + line.kind,
                "invoice": line.invoice_number,
                "how": APPLIED_KINDS.get(line.kind, line.kind),
                "amount": _money(payment, line.amount),
                "left": _money(payment, line.balance_left),
                "href": f"/invoices/{line.invoice_public_id}",
            }
            for line in payment.applied
        ]
        table = ui.table(columns=columns, rows=rows, row_key="id").props("flat dense").classes("w-full")
        table.add_slot(
            "body-cell-invoice",
            '<q-td :props="props"><a :href="props.row.href" class="text-primary no-underline">'
            "{{ props.value }}</a></q-td>",
        )
    notes = []
    if payment.unapplied.minor:
        kept = (
            _("{amount} is available as retainer for future invoices.")
            if payment.is_retainer
            else _("{amount} is available as credit for future invoices.")
        )
        notes.append(kept.format(amount=_money(payment, payment.unapplied)))
    if payment.refunded.minor:
        notes.append(_("{amount} of it was refunded.").format(amount=_money(payment, payment.refunded)))
    for note in notes:
        ui.label(note).classes("text-sm text-grey-8")
