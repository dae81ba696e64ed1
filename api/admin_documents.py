"""PDF downloads for the back office: any invoice of the signed-in staff member's business, drafts too.

The customers' /invoices/{public_id}/pdf takes a customer session and never shows a draft; staff sign
in at /admin, so their downloads live under /admin, where ``SessionGuard`` requires a staff session.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.documents import pdf_response
from components.offload import io_bound, pdf_bound
from services import portal
from services.business_documents import invoice_sheet
from services.errors import NotFound
from services.pdf.invoice import render_invoice_pdf
from services.staff_auth import StaffPrincipal

router = APIRouter()


@router.get("/admin/invoices/{public_id}/pdf")
async def staff_invoice_pdf(request: Request, public_id: str, download: bool = False) -> Response:
    """The query in the database's workers, the rendering in the PDF's (components.offload)."""
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        sheet = await io_bound(
            invoice_sheet,
            current.db,
            staff.organization_id,
            public_id,
            today=current.clock().date(),
            with_logo=True,
        )
    except NotFound:
        raise HTTPException(status_code=404, detail="This invoice does not exist.") from None
    document = sheet.document
    return pdf_response(await pdf_bound(render_invoice_pdf, document), document.number, download=download)
