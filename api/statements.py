"""The Statement of Accounts as a PDF, for the signed-in client."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.documents import pdf_response
from components.offload import io_bound, pdf_bound
from services import portal
from services.errors import NotFound
from services.pdf.statement import render_statement_pdf
from services.principal import Principal
from services.statement import InvalidPeriod, build_statement, period_from_query

router = APIRouter()


@router.get("/statement/pdf")
async def statement_pdf(request: Request, download: bool = False) -> Response:
    """``?period=this_year`` or ``?period=custom&start=2026-01-01&end=2026-03-31``, as on the page.

    The queries run in the database's workers, the rendering (1.6 s for a year of 10,000 lines) in the
    PDF's, so a burst of statements never holds up the database (components.offload).
    """
    principal: Principal = request.state.principal
    current = portal.current()
    today = current.clock().date()
    try:
        period = period_from_query(request.query_params, today=today)
        statement = await io_bound(build_statement, current.db, principal, period, today=today)
    except InvalidPeriod as error:
        raise HTTPException(status_code=400, detail=error.message) from None
    except NotFound:
        raise HTTPException(status_code=404, detail="This account does not exist.") from None
    name = f"statement-{period.start.isoformat()}-{period.end.isoformat()}"
    return pdf_response(await pdf_bound(render_statement_pdf, statement), name, download=download)
