"""The PDF of the invoice a pay link opens, for whoever holds the link (no session)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from api.auth import client_address
from api.documents import pdf_response
from components.offload import io_bound, pdf_bound
from services import portal
from services.errors import NotFound, PayLinkUnusable, human_message
from services.invoice_detail import get_invoice
from services.pay_links import PATH, open_pay_link
from services.pdf.invoice import render_invoice_pdf

router = APIRouter()
PDF_PATH = f"{PATH}/pdf"


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
