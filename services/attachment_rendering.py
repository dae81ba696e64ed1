"""Rendering the attachments named by ``services.rendered_attachments``, for the e-mail sender."""

from __future__ import annotations

from dataclasses import dataclass

from services.branding import get_logo
from services.clock import utc_now
from services.database import Database
from services.dates import in_time_zone
from services.i18n import using_language
from services.invoice_detail import get_invoice
from services.payments_made import payment_of_client
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf
from services.rendered_attachments import INVOICE, read_spec


@dataclass(frozen=True)
class _ClientReader:
    """The client's people, for whom the e-mail is written (``services.principal.ActsForClient``)."""

    client_id: int
    portal_user_id: int | None = None
    email: str = ""


def render_attachment(db: Database, spec: str) -> bytes:
    """The content of the attachment ``spec`` names, in its reader's language and time zone.

    Raises ``ValueError`` for a spec it cannot read and ``NotFound`` for a payment or invoice that is not
    there (or not that client's, or a draft).
    """
    document = read_spec(spec)
    with using_language(document.language, time_zone=document.time_zone or None):
        if document.kind == INVOICE:
            today = in_time_zone(utc_now()).date()  # for the status it shows (Overdue), the reader's day
            invoice = get_invoice(
                db, _ClientReader(document.client_id), document.public_id, today=today, with_logo=True
            )
            return render_invoice_pdf(invoice)
        payment = payment_of_client(db, document.client_id, document.public_id)
        logo = get_logo(db)
        return render_receipt_pdf(payment, logo=logo[0] if logo else None)
