"""Invoices and retainer invoices: create as draft, send, void, and keep their balance due."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from services.auto_pay_consents import wake_for_issued
from services.clock import Clock, utc_now
from services.database import Database
from services.document_lines import priced_lines
from services.errors import (
    AmountExceedsBalance,
    DocumentHasApplications,
    InvalidAmount,
    InvalidDetails,
    InvalidStatusChange,
    InvoiceNotPayable,
    NotFound,
)
from services.money import Money
from services.numbering import next_number
from services.records import DocumentRef, get_client
from services.totals import LineInput

PAYABLE_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.PARTIALLY_PAID)
NO_LINES_TO_SEND = "Add at least one line before sending: an invoice without lines has nothing to pay."


def create_invoice(
    db: Database,
    *,
    client_id: int,
    lines: Sequence[LineInput],
    issue_date: date,
    due_date: date,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    notes: str = "",
    terms: str = "",
    clock: Clock = utc_now,
) -> DocumentRef:
    """Create a draft invoice (or retainer invoice) with its totals computed by the rounding rules."""
    if not lines:
        raise ValueError("an invoice needs at least one line")
    if due_date < issue_date:
        raise ValueError("the due date cannot be before the issue date")
    with db.transaction() as session:
        invoice = add_draft(
            session,
            client_id=client_id,
            lines=lines,
            issue_date=issue_date,
            due_date=due_date,
            kind=kind,
            notes=notes,
            terms=terms,
            now=clock(),
        )
        return DocumentRef(invoice.id, invoice.public_id, invoice.number)


def add_draft(
    session: Session,
    *,
    client_id: int,
    lines: Sequence[LineInput],
    issue_date: date,
    due_date: date,
    kind: InvoiceKind,
    notes: str,
    terms: str,
    now: datetime,
) -> Invoice:
    """A new draft in the caller's transaction. A draft may have no lines yet; it cannot be sent so."""
    client = get_client(session, client_id)
    invoice = Invoice(
        organization_id=client.organization_id,
        client_id=client.id,
        kind=kind,
        number=next_number(session, client.organization_id, str(kind)),
        status=InvoiceStatus.DRAFT,
        issue_date=issue_date,
        due_date=due_date,
        currency=client.currency,
        notes=notes,
        terms=terms,
        created_at=now,
    )
    replace_lines(invoice, lines)
    session.add(invoice)
    session.flush()
    return invoice


def replace_lines(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    """Give a draft these lines and the totals computed from them (``InvalidLine`` for a bad line,
    ``AmountTooLarge`` for an amount above the bound)."""
    invoice.lines = priced_lines(invoice, lines, InvoiceLine)
    invoice.balance_due_minor = invoice.total_minor


def send_invoice(db: Database, invoice_id: int, *, clock: Clock = utc_now) -> None:
    """Issue a draft: from now on the customer sees it and owes it. No e-mail goes out (see
    ``services.business_documents.send_invoice`` for the business's send, which e-mails the customer)."""
    with db.transaction() as session:
        issue(session, locked_invoice(session, invoice_id), now=clock())


def issue(session: Session, invoice: Invoice, *, now: datetime) -> None:
    """Move a locked draft to sent in the caller's transaction; a draft without lines is refused."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvalidStatusChange("invoice", invoice.number, invoice.status, "sent")
    line_count = session.scalar(select(func.count()).where(InvoiceLine.invoice_id == invoice.id))
    if not line_count:
        raise InvalidDetails({"lines": NO_LINES_TO_SEND})
    invoice.status = InvoiceStatus.SENT
    invoice.sent_at = now
    wake_for_issued(session, invoice, now)


def void_invoice(db: Database, invoice_id: int, *, clock: Clock = utc_now) -> None:
    """Void an issued invoice that has nothing applied to it. The invoice stays, marked void."""
    with db.transaction() as session:
        invoice = locked_invoice(session, invoice_id)
        if invoice.status not in PAYABLE_STATUSES:
            raise InvalidStatusChange("invoice", invoice.number, invoice.status, "voided")
        if invoice.balance_due_minor != invoice.total_minor:
            raise DocumentHasApplications("invoice", invoice.number)
        invoice.status = InvoiceStatus.VOID
        invoice.balance_due_minor = 0
        invoice.voided_at = clock()


def locked_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        raise NotFound("invoice", invoice_id)
    return invoice


# Made once: every payment runs it (making it again cost about as much as running it).
_LOCKED_INVOICES = (
    select(Invoice)
    .where(Invoice.id.in_(bindparam("ids", expanding=True)))
    .order_by(Invoice.id)
    .with_for_update()
)


def locked_invoices(session: Session, invoice_ids: Sequence[int]) -> dict[int, Invoice]:
    """Invoice id -> invoice for each of ``invoice_ids``, locked in one statement in the order of their
    ids, so two payments over the same invoices take them in the same order; ``NotFound`` for the first
    of ``invoice_ids`` not found."""
    if not invoice_ids:
        return {}
    found = {
        invoice.id: invoice for invoice in session.scalars(_LOCKED_INVOICES, {"ids": list(set(invoice_ids))})
    }
    for invoice_id in invoice_ids:
        if invoice_id not in found:
            raise NotFound("invoice", invoice_id)
    return found


def check_payable(invoice: Invoice, amount: Money) -> None:
    """Raise the precise error if ``amount`` cannot be taken off the invoice's balance now."""
    if invoice.status not in PAYABLE_STATUSES:
        raise InvoiceNotPayable(invoice.number, invoice.status)
    if amount.minor <= 0:
        raise InvalidAmount(amount, "must be more than zero")
    if amount.minor > invoice.balance_due_minor:
        raise AmountExceedsBalance(invoice.number, Money(invoice.balance_due_minor, invoice.currency), amount)


def reduce_balance(invoice: Invoice, amount: Money) -> None:
    """Take ``amount`` off an open invoice's balance and move its status along. Caller holds the lock."""
    check_payable(invoice, amount)
    invoice.balance_due_minor -= amount.minor
    invoice.status = InvoiceStatus.PAID if invoice.balance_due_minor == 0 else InvoiceStatus.PARTIALLY_PAID


def mark_viewed(db: Database, invoice_id: int, *, clock: Clock = utc_now) -> bool:
    """Record the customer's first look at a sent invoice; later looks change nothing."""
    with db.transaction() as session:
        invoice = locked_invoice(session, invoice_id)
        if invoice.viewed_at is not None or invoice.status == InvoiceStatus.DRAFT:
            return False
        invoice.viewed_at = clock()
        if invoice.status == InvoiceStatus.SENT:
            invoice.status = InvoiceStatus.VIEWED
        return True
