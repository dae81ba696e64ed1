"""Frozen results services hand back, and lookups they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceStatus
from services.errors import NotFound
from services.principal import ActsForClient


@dataclass(frozen=True)
class DocumentRef:
    id: int
    public_id: str
    number: str


def get_client(session: Session, client_id: int) -> Client:
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound("client", client_id)
    return client


def client_invoice(session: Session, principal: ActsForClient, public_id: str) -> Invoice:
    """The signed-in client's issued invoice; a draft or another client's invoice is ``NotFound``."""
    invoice = session.scalars(
        select(Invoice).where(
            Invoice.public_id == public_id,
            Invoice.client_id == principal.client_id,
            Invoice.status != InvoiceStatus.DRAFT,
        )
    ).one_or_none()
    if invoice is None:
        raise NotFound("invoice", public_id)
    return invoice


def client_invoices(
    session: Session, principal: ActsForClient, public_ids: Sequence[str]
) -> dict[str, Invoice]:
    """``client_invoice`` for several public ids in one query: public id -> invoice, for those found."""
    invoices = session.scalars(
        _CLIENT_INVOICES, {"public_ids": list(set(public_ids)), "client_id": principal.client_id}
    )
    return {invoice.public_id: invoice for invoice in invoices}


# Made once: every payment runs it (making it again cost about as much as running it).
_CLIENT_INVOICES = select(Invoice).where(
    Invoice.public_id.in_(bindparam("public_ids", expanding=True)),
    Invoice.client_id == bindparam("client_id"),
    Invoice.status != InvoiceStatus.DRAFT,
)
