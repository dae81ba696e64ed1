"""Invoices and retainer invoices: create as draft, send, void."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.v1.common import Caller, Cursor, Limit, decode_cursor, encode_cursor, public_id
from api.v1.schemas import InvoiceCreate, InvoiceList, InvoiceOut, LineIn, PublicId
from models import InvoiceKind, InvoiceStatus
from services import business_documents as documents
from services import portal
from services.events import client_documents_topic
from services.totals import LineInput

router = APIRouter(prefix="/invoices", tags=["invoices"])


def line_inputs(lines: list[LineIn]) -> list[LineInput]:
    return [LineInput(**line.model_dump()) for line in lines]


@router.get("", response_model=InvoiceList)
def list_invoices(
    caller: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: InvoiceStatus | None = None,
    kind: InvoiceKind | None = None,
    client_id: Annotated[PublicId | None, Query()] = None,
) -> InvoiceList:
    page = documents.list_invoices(
        portal.current().db,
        caller.organization_id,
        kind=kind,
        status=status,
        client_public_id=client_id,
        after_id=decode_cursor(cursor),
        limit=limit,
    )
    return InvoiceList(
        data=[InvoiceOut.of(i) for i in page.items], next_cursor=encode_cursor(page.next_after_id)
    )


@router.post("", response_model=InvoiceOut, status_code=201)
def create_invoice(caller: Caller, body: InvoiceCreate) -> InvoiceOut:
    """A draft invoice (or, with ``kind: retainer``, a retainer invoice); totals are computed here."""
    current = portal.current()
    invoice = documents.create_draft_invoice(
        current.db,
        caller.organization_id,
        client_public_id=body.client_id,
        lines=line_inputs(body.lines),
        issue_date=body.issue_date or current.clock().date(),
        due_date=body.due_date,
        kind=body.kind,
        notes=body.notes,
        terms=body.terms,
        clock=current.clock,
    )
    return InvoiceOut.of(invoice)


@router.get("/{invoice_id}", response_model=InvoiceOut)
def get_invoice(caller: Caller, invoice_id: str) -> InvoiceOut:
    db = portal.current().db
    return InvoiceOut.of(documents.get_invoice(db, caller.organization_id, public_id(invoice_id, "invoice")))


@router.post("/{invoice_id}/send", response_model=InvoiceOut)
def send_invoice(caller: Caller, invoice_id: str) -> InvoiceOut:
    current = portal.current()
    invoice_id = public_id(invoice_id, "invoice")
    invoice = documents.send_invoice(current.db, caller.organization_id, invoice_id, clock=current.clock)
    current.events.publish(client_documents_topic(invoice.client_public_id))  # the customer's open pages
    return InvoiceOut.of(invoice)


@router.post("/{invoice_id}/void", response_model=InvoiceOut)
def void_invoice(caller: Caller, invoice_id: str) -> InvoiceOut:
    current = portal.current()
    invoice_id = public_id(invoice_id, "invoice")
    invoice = documents.void_invoice(current.db, caller.organization_id, invoice_id, clock=current.clock)
    current.events.publish(client_documents_topic(invoice.client_public_id))
    return InvoiceOut.of(invoice)
