"""What the payer sees once a payment went through, on the Pay page and on a pay link's page: the
amount, the receipt to download or print, and where the receipt is e-mailed, as it is: in the outbox
from the moment the payment succeeded, or, for a bank payment still processing, once it completes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from nicegui import ui

from components.offload import io_bound
from components.printing import print_pdf
from services.database import Database
from services.i18n import _
from services.money import Money
from services.online_payments import PaymentOutcome
from services.payment_notices import ReceiptDelivery, receipt_delivery
from services.principal import ActsForClient

log = logging.getLogger(__name__)


async def receipt_delivery_of(db: Database, payer: ActsForClient, payment_public_id: str) -> ReceiptDelivery:
    """Where the payment's receipt is e-mailed; nothing said about it if that cannot be read now (the
    payment is booked: a fault here must not hide that)."""
    try:
        return await io_bound(receipt_delivery, db, payer, payment_public_id)
    except Exception:
        log.exception("where the receipt of payment %s goes could not be read", payment_public_id)
        return ReceiptDelivery("", queued=False)


def payment_done(
    outcome: PaymentOutcome,
    delivery: ReceiptDelivery,
    *,
    receipt_pdf: str,
    money: Callable[[Money], str],
    processing_note: str,
) -> ui.card:
    """The card that replaces the payment form; the caller adds its way onward to it.

    ``receipt_pdf`` is the receipt's address for the reader (the signed-in customer's, or the pay
    link's); ``?download=1`` or ``&download=1`` asks for it as a download.
    """
    with ui.card().classes("w-full p-6 gap-3 items-start").props("flat bordered") as card:
        if outcome.status == "processing":
            ui.icon("schedule").classes("text-4xl text-amber-8").props('aria-hidden="true"')
            ui.label(
                _("Your bank payment of {amount} is processing.").format(amount=money(outcome.amount))
            ).classes("text-lg").mark("pay-done")
            ui.label(processing_note).classes("text-grey-8")
            if delivery.email:
                ui.label(
                    _("We will e-mail your receipt to {email} when the payment completes.").format(
                        email=delivery.email
                    )
                ).classes("text-grey-8 break-words").mark("receipt-email")
            return card
        ui.icon("check_circle").classes("text-4xl text-positive").props('aria-hidden="true"')
        ui.label(_("Thank you! Payment received: {amount}.").format(amount=money(outcome.amount))).classes(
            "text-lg"
        ).mark("pay-done")
        ui.label(_("Receipt {receipt_number}").format(receipt_number=outcome.receipt_number)).classes(
            "text-grey-8"
        )
        if delivery.queued:
            ui.label(_("We are e-mailing your receipt to {email}.").format(email=delivery.email)).classes(
                "text-grey-8 break-words"
            ).mark("receipt-email")
        download = receipt_pdf + ("&" if "?" in receipt_pdf else "?") + "download=1"
        with ui.row().classes("gap-2"):
            ui.button(_("Download receipt"), icon="download", on_click=lambda: ui.download(download)).props(
                "outline no-caps"
            ).mark("receipt-download")
            ui.button(_("Print receipt"), icon="print", on_click=lambda: print_pdf(receipt_pdf)).props(
                "flat no-caps"
            ).mark("receipt-print")
    return card
