"""What reminders and late fees both ask before they chase an invoice, under the locks a payment takes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice
from services.invoices import PAYABLE_STATUSES
from services.online_payments import in_flight


def locked_for_chasing(session: Session, invoice_id: int) -> tuple[Client, Invoice] | None:
    """The invoice and its client, locked, when the invoice may still be chased; else None.

    The client's row is locked as a payment locks it (``FOR NO KEY UPDATE``: a payment's booking still
    refers to it), so no payment attempt starts while this transaction reads what is in flight; the
    invoice's row is locked so that its status and balance are the latest. Not chased: an invoice that
    is not payable or owes nothing, one with a payment on its way, or a client excluded from reminders.
    """
    client_id = session.scalar(select(Invoice.client_id).where(Invoice.id == invoice_id))
    if client_id is None:
        return None
    client = session.scalars(
        select(Client).where(Client.id == client_id).with_for_update(key_share=True)
    ).one()
    invoice = session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if (
        invoice.status not in PAYABLE_STATUSES
        or invoice.balance_due_minor <= 0
        or not client.send_reminders
        or in_flight(session, client.id).get(invoice.id, 0) > 0
    ):
        return None
    return client, invoice
