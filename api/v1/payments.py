"""Payments: the list, and recording money received offline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.v1.common import Caller, Cursor, Limit, decode_cursor, encode_cursor, public_id
from api.v1.schemas import PaymentCreate, PaymentList, PaymentOut, PublicId
from models import PaymentMethodKind
from services import business_documents as documents
from services import portal
from services.events import client_documents_topic
from services.money import Money

router = APIRouter(prefix="/payments", tags=["payments"])


@router.get("", response_model=PaymentList)
def list_payments(
    caller: Caller,
    limit: Limit = 50,
    cursor: Cursor = None,
    client_id: Annotated[PublicId | None, Query()] = None,
) -> PaymentList:
    page = documents.list_payments(
        portal.current().db,
        caller.organization_id,
        client_public_id=client_id,
        after_id=decode_cursor(cursor),
        limit=limit,
    )
    return PaymentList(
        data=[PaymentOut.of(p) for p in page.items], next_cursor=encode_cursor(page.next_after_id)
    )


@router.post("", response_model=PaymentOut, status_code=201)
def record_payment(caller: Caller, body: PaymentCreate) -> PaymentOut:
    """Record cash, a cheque or a bank transfer received; it gets a receipt number at once."""
    current = portal.current()
    payment = documents.record_offline_payment(
        current.db,
        caller.organization_id,
        client_public_id=body.client_id,
        amount=Money(body.amount_minor, body.currency),
        method=PaymentMethodKind(body.method),
        received_at=body.received_at or current.clock(),
        allocations=body.allocations,
        retainer_invoice_public_id=body.retainer_invoice_id,
        reference=body.reference,
        clock=current.clock,
    )
    current.events.publish(client_documents_topic(payment.client_public_id))  # the customer's open pages
    return PaymentOut.of(payment)


@router.get("/{payment_id}", response_model=PaymentOut)
def get_payment(caller: Caller, payment_id: str) -> PaymentOut:
    db = portal.current().db
    return PaymentOut.of(documents.get_payment(db, caller.organization_id, public_id(payment_id, "payment")))
