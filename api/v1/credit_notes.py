"""Credit notes: issued at once, available as credit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.v1.common import Caller, Cursor, Limit, decode_cursor, encode_cursor, public_id
from api.v1.invoices import line_inputs
from api.v1.schemas import CreditNoteCreate, CreditNoteList, CreditNoteOut, PublicId
from services import business_documents as documents
from services import portal
from services.events import client_documents_topic

router = APIRouter(prefix="/credit-notes", tags=["credit notes"])


@router.get("", response_model=CreditNoteList)
def list_credit_notes(
    caller: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    client_id: Annotated[PublicId | None, Query()] = None,
) -> CreditNoteList:
    page = documents.list_credit_notes(
        portal.current().db,
        caller.organization_id,
        client_public_id=client_id,
        after_id=decode_cursor(cursor),
        limit=limit,
    )
    return CreditNoteList(
        data=[CreditNoteOut.of(n) for n in page.items], next_cursor=encode_cursor(page.next_after_id)
    )


@router.post("", response_model=CreditNoteOut, status_code=201)
def issue_credit_note(caller: Caller, body: CreditNoteCreate) -> CreditNoteOut:
    current = portal.current()
    note = documents.issue_credit_note(
        current.db,
        caller.organization_id,
        client_public_id=body.client_id,
        lines=line_inputs(body.lines),
        issue_date=body.issue_date or current.clock().date(),
        reason=body.reason,
        clock=current.clock,
    )
    current.events.publish(client_documents_topic(note.client_public_id))  # the customer's open pages
    return CreditNoteOut.of(note)


@router.get("/{credit_note_id}", response_model=CreditNoteOut)
def get_credit_note(caller: Caller, credit_note_id: str) -> CreditNoteOut:
    db = portal.current().db
    note_id = public_id(credit_note_id, "credit note")
    return CreditNoteOut.of(documents.get_credit_note(db, caller.organization_id, note_id))


@router.post("/{credit_note_id}/void", response_model=CreditNoteOut)
def void_credit_note(caller: Caller, credit_note_id: str) -> CreditNoteOut:
    current = portal.current()
    note_id = public_id(credit_note_id, "credit note")
    note = documents.void_credit_note(current.db, caller.organization_id, note_id, clock=current.clock)
    current.events.publish(client_documents_topic(note.client_public_id))
    return CreditNoteOut.of(note)
