"""PDF downloads of the signed-in client's documents."""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from components.offload import io_bound, pdf_bound
from services import portal
from services.branding import get_logo
from services.credit_notes import get_credit_note
from services.errors import NotFound
from services.invoice_detail import get_invoice
from services.payments_made import get_payment
from services.pdf.credit_note import render_credit_note_pdf
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf
from services.principal import Principal

router = APIRouter()


def pdf_response(content: bytes, name: str, *, download: bool) -> Response:
    """A PDF that no cache keeps, named after its document number."""
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".pdf"
    disposition = "attachment" if download else "inline"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",  # (nosniff and the framing rules: api.security_headers)
        },
    )


@router.get("/invoices/{public_id}/pdf")
async def invoice_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    """The query in the database's workers, the rendering in the PDF's (components.offload)."""
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        document = await io_bound(
            get_invoice, current.db, principal, public_id, today=current.clock().date(), with_logo=True
        )
    except NotFound:
        raise HTTPException(status_code=404, detail="This invoice does not exist.") from None
    return pdf_response(await pdf_bound(render_invoice_pdf, document), document.number, download=download)


@router.get("/payments/{public_id}/pdf")
async def receipt_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    """The receipt of a payment that succeeded; an attempt that failed or is processing has none."""
    principal: Principal = request.state.principal
    db = portal.current().db
    try:
        payment = await io_bound(get_payment, db, principal, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail="This payment does not exist.") from None
    if not payment.is_receipt:
        raise HTTPException(status_code=404, detail="This payment has no receipt: it did not go through.")
    logo = await io_bound(get_logo, db)
    content = await pdf_bound(render_receipt_pdf, payment, logo=logo[0] if logo else None)
    return pdf_response(content, f"Receipt-{payment.receipt_number}", download=download)


@router.get("/credit-notes/{public_id}/pdf")
async def credit_note_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    """The client's own issued credit note; anyone else's, or a draft, is not found (as an invoice is)."""
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        document = await io_bound(get_credit_note, current.db, principal, public_id, with_logo=True)
    except NotFound:
        raise HTTPException(status_code=404, detail="This credit note does not exist.") from None
    return pdf_response(await pdf_bound(render_credit_note_pdf, document), document.number, download=download)
