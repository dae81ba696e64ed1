"""Rendering the attachments named by ``services.rendered_attachments``, for the e-mail sender."""

from __future__ import annotations

from services.branding import get_logo
from services.database import Database
from services.i18n import using_language
from services.payments_made import payment_of_client
from services.pdf.receipt import render_receipt_pdf
from services.rendered_attachments import read_spec


def render_attachment(db: Database, spec: str) -> bytes:
    """The content of the attachment ``spec`` names, in its reader's language and time zone.

    Raises ``ValueError`` for a spec it cannot read and ``NotFound`` for a payment that is not there
    (or not that client's).
    """
    receipt = read_spec(spec)
    with using_language(receipt.language, time_zone=receipt.time_zone or None):
        payment = payment_of_client(db, receipt.client_id, receipt.payment_public_id)
        logo = get_logo(db)
        return render_receipt_pdf(payment, logo=logo[0] if logo else None)
