"""Quote PDFs: the signed-in customer's sent quotes (/quotes/...), and any quote of the signed-in staff
member's business, drafts too (/admin/quotes/..., where ``SessionGuard`` requires a staff session)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.documents import pdf_response
from components.offload import io_bound, pdf_bound
from services import portal
from services.errors import NotFound
from services.pdf.quote import render_quote_pdf
from services.principal import Principal
from services.quote_answers import client_quote
from services.quotes import quote_sheet
from services.staff_auth import StaffPrincipal

router = APIRouter()


@router.get("/quotes/{public_id}/pdf")
async def quote_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    """The client's own sent quote; a draft or anyone else's is not found (as an invoice is)."""
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        document = await io_bound(
            client_quote, current.db, principal, public_id, now=current.clock(), with_logo=True
        )
    except NotFound:
        raise HTTPException(status_code=404, detail="This quote does not exist.") from None
    return pdf_response(await pdf_bound(render_quote_pdf, document), document.number, download=download)


@router.get("/admin/quotes/{public_id}/pdf")
async def staff_quote_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        document = await io_bound(
            quote_sheet, current.db, staff.organization_id, public_id, now=current.clock(), with_logo=True
        )
    except NotFound:
        raise HTTPException(status_code=404, detail="This quote does not exist.") from None
    return pdf_response(await pdf_bound(render_quote_pdf, document), document.number, download=download)
