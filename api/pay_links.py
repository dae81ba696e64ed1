"""The PDFs a pay link opens, for whoever holds the link (no session): its invoice, and the receipt of a
payment made through it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from api.auth import client_address
from api.documents import pdf_response
from components.offload import io_bound, pdf_bound
from services import portal
from services.branding import get_logo
from services.errors import NotFound, PayLinkUnusable, human_message
from services.invoice_detail import get_invoice
from services.pay_links import PATH, link_receipt, open_pay_link
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf

router = APIRouter()
PDF_PATH = f"{PATH}/pdf"
RECEIPT_PATH = f"{PATH}/receipt"


@router.get(PDF_PATH)
async def pay_link_pdf(request: Request, token: str = "", download: bool = False) -> Response:
    """The link's own invoice only: no other document can be named through it."""
    current = portal.current()
    try:
        opened = await io_bound(
            open_pay_link, current.db, token, ip_address=client_address(request), clock=current.clock
        )
        document = await io_bound(
            get_invoice,
            current.db,
            opened.payer,
            opened.invoice_public_id,
            today=current.clock().date(),
            with_logo=True,
        )
    except PayLinkUnusable as refused:
        raise HTTPException(status_code=404, detail=human_message(refused)) from None
    except NotFound:
        raise HTTPException(status_code=404, detail="This invoice does not exist.") from None
    return pdf_response(await pdf_bound(render_invoice_pdf, document), document.number, download=download)


@router.get(RECEIPT_PATH)
async def pay_link_receipt(
    request: Request, token: str = "", payment: str = "", download: bool = False
) -> Response:
    """The receipt of the payment ``payment`` made through the link: no other payment can be named."""
    current = portal.current()
    try:
        receipt = await io_bound(
            link_receipt, current.db, token, payment, ip_address=client_address(request), clock=current.clock
        )
    except PayLinkUnusable as refused:
        raise HTTPException(status_code=404, detail=human_message(refused)) from None
    except NotFound:
        raise HTTPException(status_code=404, detail="This payment does not exist.") from None
    logo = await io_bound(get_logo, current.db)
    content = await pdf_bound(render_receipt_pdf, receipt, logo=logo[0] if logo else None)
    return pdf_response(content, f"Receipt-{receipt.receipt_number}", download=download)
