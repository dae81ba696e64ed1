"""The business's own view of its invoices, retainer invoices, credit notes and payments.

Scoped by ``organization_id`` and named by public ids, for the back office and the REST API: another
business's document is ``NotFound``. The work itself is done by ``services.invoices``,
``services.credit_notes`` and ``services.payments``; this module finds the rows and hands back frozen
views. Lists are in the order the rows were made, paged by a cursor (the id of the last row seen).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import (
    Allocation,
    AllocationKind,
    Client,
    Comment,
    CreditNote,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Organization,
    Payment,
    PaymentKind,
    PaymentMethodKind,
)
from models.document_line import LineColumns
from services import credit_notes, invoices, payments, portal
from services.clients import client_id_for
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.invoice_detail import (
    InvoiceDocument,
    applied_amounts,
    business_party,
    client_party,
    document_lines,
    payment_details,
)
from services.invoice_emails import queue_invoice_sent_email
from services.invoice_list import status_label
from services.money import Money
from services.totals import LineInput

MAX_PAGE_SIZE = 100
OFFLINE_METHODS = (
    PaymentMethodKind.CASH,
    PaymentMethodKind.CHEQUE,
    PaymentMethodKind.BANK_TRANSFER,
    PaymentMethodKind.OTHER,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after_id: int | None  # pass as ``after_id`` for the next page; None on the last page


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal
    tax_name: str
    tax_rate_percent: Decimal
    amount_minor: int
    discount_minor: int
    tax_minor: int


@dataclass(frozen=True)
class InvoiceView:
    id: int
    public_id: str
    number: str
    kind: str
    status: str
    client_public_id: str
    currency: str
    issue_date: date
    due_date: date
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    balance_due_minor: int
    notes: str
    terms: str
    lines: tuple[LineView, ...]
    sent_at: datetime | None
    voided_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class CreditNoteView:
    id: int
    public_id: str
    number: str
    status: str
    client_public_id: str
    currency: str
    issue_date: date
    reason: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    remaining_minor: int
    lines: tuple[LineView, ...]
    issued_at: datetime | None
    voided_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class AllocationView:
    invoice_public_id: str
    invoice_number: str
    amount_minor: int


@dataclass(frozen=True)
class PaymentView:
    id: int
    public_id: str
    receipt_number: str | None
    status: str
    kind: str
    client_public_id: str
    currency: str
    amount_minor: int
    unapplied_minor: int
    method: str
    reference: str
    retainer_invoice_public_id: str | None
    allocations: tuple[AllocationView, ...]
    received_at: datetime | None
    created_at: datetime


# Invoices and retainer invoices


def list_invoices(
    db: Database,
    organization_id: int,
    *,
    kind: InvoiceKind | None = None,
    status: str | None = None,
    client_public_id: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> Page[InvoiceView]:
    query = _invoices(organization_id)
    if kind is not None:
        query = query.where(Invoice.kind == kind)
    if status is not None:
        query = query.where(Invoice.status == status)
    if client_public_id is not None:
        query = query.where(Client.public_id == client_public_id)
    with db.reading() as session:
        rows, next_after_id = _page(session, query, Invoice.id, after_id, limit)
        return Page([_invoice_view(invoice, client) for invoice, client in rows], next_after_id)


def get_invoice(db: Database, organization_id: int, public_id: str) -> InvoiceView:
    with db.reading() as session:
        invoice, client = _one(
            session, _invoices(organization_id).where(Invoice.public_id == public_id), public_id
        )
        return _invoice_view(invoice, client)


def create_draft_invoice(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    lines: Sequence[LineInput],
    issue_date: date,
    due_date: date | None = None,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    notes: str = "",
    terms: str = "",
    clock: Clock = utc_now,
) -> InvoiceView:
    """A draft invoice or retainer invoice; without a due date it is due after the business's terms."""
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
        terms_days = session.get_one(Organization, organization_id).payment_terms_days
    due = due_date or issue_date + timedelta(days=terms_days)
    _check_document(lines, issue_date, due)
    ref = invoices.create_invoice(
        db,
        client_id=client_id,
        lines=lines,
        issue_date=issue_date,
        due_date=due,
        kind=kind,
        notes=notes,
        terms=terms,
        clock=clock,
    )
    return get_invoice(db, organization_id, ref.public_id)


def send_invoice(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    base_url: str | None = None,
    clock: Clock = utc_now,
) -> InvoiceView:
    """Issue a draft invoice: the customer sees it in the portal and owes it from now on.

    The client's contacts are e-mailed a link to it (``{base_url}/invoices/{public_id}``) in the same
    transaction, so the invoice is never sent without its e-mail nor the reverse. Without ``base_url``
    the portal's public address is used. A draft without lines is refused (``InvalidDetails``).
    """
    link_base = base_url if base_url is not None else portal.current().settings.public_url
    invoice_id = _invoice_id(db, organization_id, public_id)
    with db.transaction() as session:
        invoice = invoices.locked_invoice(session, invoice_id)
        now = clock()
        invoices.issue(session, invoice, now=now)
        queue_invoice_sent_email(session, invoice, base_url=link_base, now=now)
    return get_invoice(db, organization_id, public_id)


def void_invoice(
    db: Database, organization_id: int, public_id: str, *, clock: Clock = utc_now
) -> InvoiceView:
    """Void an issued invoice with nothing applied to it."""
    invoices.void_invoice(db, _invoice_id(db, organization_id, public_id), clock=clock)
    return get_invoice(db, organization_id, public_id)


@dataclass(frozen=True)
class InvoiceSheet:
    """An invoice as the business sees it: the document the customer gets (drafts too), and more."""

    document: InvoiceDocument
    client_public_id: str
    client_name: str
    comment_count: int
    sent_at: datetime | None
    voided_at: datetime | None

    @property
    def is_draft(self) -> bool:
        return self.document.status == InvoiceStatus.DRAFT

    @property
    def can_void(self) -> bool:
        return self.document.status in invoices.PAYABLE_STATUSES


def invoice_sheet(
    db: Database, organization_id: int, public_id: str, *, today: date, with_logo: bool = False
) -> InvoiceSheet:
    """The business's invoice with its lines, totals, what was applied and its comment count; for the
    back office's invoice page and its PDF. Another business's invoice is ``NotFound``."""
    with db.reading() as session:
        invoice, client = _one(
            session, _invoices(organization_id).where(Invoice.public_id == public_id), public_id
        )
        business, locale = business_party(session, organization_id)
        organization = session.get_one(Organization, organization_id)
        comment_count = session.scalar(select(func.count()).where(Comment.invoice_id == invoice.id)) or 0

        def money(minor: int) -> Money:
            return Money(minor, invoice.currency)

        document = InvoiceDocument(
            public_id=invoice.public_id,
            number=invoice.number,
            is_retainer=invoice.kind == InvoiceKind.RETAINER,
            status=invoice.status,
            status_label=status_label(invoice.status, invoice.due_date, today),
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            business=business,
            client=client_party(session, client.id),
            lines=document_lines(invoice.lines, invoice.currency),
            subtotal=money(invoice.subtotal_minor),
            discount=money(invoice.discount_minor),
            tax=money(invoice.tax_minor),
            total=money(invoice.total_minor),
            applied=applied_amounts(session, invoice),
            balance_due=money(invoice.balance_due_minor),
            notes=invoice.notes,
            terms=invoice.terms,
            locale=locale,
            logo=organization.logo if with_logo else None,
            viewed_at=invoice.viewed_at,
            **payment_details(organization, client, invoice),
        )
        return InvoiceSheet(
            document,
            client.public_id,
            client.display_name,
            int(comment_count),
            invoice.sent_at,
            invoice.voided_at,
        )


# Credit notes


def list_credit_notes(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> Page[CreditNoteView]:
    query = _credit_notes(organization_id)
    if client_public_id is not None:
        query = query.where(Client.public_id == client_public_id)
    with db.reading() as session:
        rows, next_after_id = _page(session, query, CreditNote.id, after_id, limit)
        return Page([_credit_note_view(note, client) for note, client in rows], next_after_id)


def get_credit_note(db: Database, organization_id: int, public_id: str) -> CreditNoteView:
    with db.reading() as session:
        query = _credit_notes(organization_id).where(CreditNote.public_id == public_id)
        note, client = _one(session, query, public_id, kind="credit note")
        return _credit_note_view(note, client)


def issue_credit_note(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    lines: Sequence[LineInput],
    issue_date: date,
    reason: str = "",
    clock: Clock = utc_now,
) -> CreditNoteView:
    """Create and issue a credit note; its total is available credit at once."""
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
    _check_document(lines, issue_date, issue_date)
    ref = credit_notes.issue_credit_note(
        db, client_id=client_id, lines=lines, issue_date=issue_date, reason=reason, clock=clock
    )
    return get_credit_note(db, organization_id, ref.public_id)


def void_credit_note(
    db: Database, organization_id: int, public_id: str, *, clock: Clock = utc_now
) -> CreditNoteView:
    note = get_credit_note(db, organization_id, public_id)
    credit_notes.void_credit_note(db, note.id, clock=clock)
    return get_credit_note(db, organization_id, public_id)


# Payments


def list_payments(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> Page[PaymentView]:
    query = _payments(organization_id)
    if client_public_id is not None:
        query = query.where(Client.public_id == client_public_id)
    with db.reading() as session:
        rows, next_after_id = _page(session, query, Payment.id, after_id, limit)
        allocations = _allocations(session, [payment.id for payment, _client in rows])
        retainers = _public_ids(session, [p.retainer_invoice_id for p, _c in rows if p.retainer_invoice_id])
        return Page(
            [_payment_view(payment, client, allocations, retainers) for payment, client in rows],
            next_after_id,
        )


def get_payment(db: Database, organization_id: int, public_id: str) -> PaymentView:
    with db.reading() as session:
        query = _payments(organization_id).where(Payment.public_id == public_id)
        payment, client = _one(session, query, public_id, kind="payment")
        allocations = _allocations(session, [payment.id])
        retainers = _public_ids(session, [payment.retainer_invoice_id] if payment.retainer_invoice_id else [])
        return _payment_view(payment, client, allocations, retainers)


def record_offline_payment(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    amount: Money,
    method: PaymentMethodKind,
    received_at: datetime,
    allocations: Mapping[str, int] | None = None,
    retainer_invoice_public_id: str | None = None,
    reference: str = "",
    clock: Clock = utc_now,
) -> PaymentView:
    """Record cash, a cheque or a transfer received: allocated to the invoices named, the rest kept as credit.

    ``allocations`` maps invoice public ids to minor amounts. With ``retainer_invoice_public_id`` the
    payment pays that retainer invoice instead, and becomes retainer available to later invoices.
    """
    if method not in OFFLINE_METHODS:
        raise InvalidDetails({"method": "Choose cash, cheque, bank_transfer or other."})
    if retainer_invoice_public_id is not None and allocations:
        raise InvalidDetails({"allocations": "A retainer payment pays its retainer invoice only."})
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
        wanted = [*(allocations or {}), *([retainer_invoice_public_id] if retainer_invoice_public_id else [])]
        ids = dict(
            session.execute(
                select(Invoice.public_id, Invoice.id).where(
                    Invoice.client_id == client_id, Invoice.public_id.in_(wanted)
                )
            ).all()
        )
    for public_id in wanted:
        if public_id not in ids:
            raise NotFound("invoice", public_id)
    ref = payments.record_payment(
        db,
        client_id=client_id,
        amount=amount,
        method=str(method),
        received_at=received_at,
        allocations={ids[public_id]: share for public_id, share in (allocations or {}).items()},
        kind=PaymentKind.RETAINER if retainer_invoice_public_id else PaymentKind.INVOICE,
        retainer_invoice_id=ids[retainer_invoice_public_id] if retainer_invoice_public_id else None,
        reference=reference,
        clock=clock,
    )
    return get_payment(db, organization_id, ref.public_id)


# Helpers


def _check_document(lines: Sequence[LineInput], issue_date: date, due_date: date) -> None:
    if not lines:
        raise InvalidDetails({"lines": "Add at least one line."})
    if due_date < issue_date:
        raise InvalidDetails({"due_date": "The due date cannot be before the issue date."})


def _invoices(organization_id: int) -> Any:
    return (
        select(Invoice, Client)
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.organization_id == organization_id)
        .options(selectinload(Invoice.lines))
    )


def _credit_notes(organization_id: int) -> Any:
    return (
        select(CreditNote, Client)
        .join(Client, Client.id == CreditNote.client_id)
        .where(CreditNote.organization_id == organization_id)
        .options(selectinload(CreditNote.lines))
    )


def _payments(organization_id: int) -> Any:
    return (
        select(Payment, Client)
        .join(Client, Client.id == Payment.client_id)
        .where(Payment.organization_id == organization_id)
    )


def _page(
    session: Session, query: Any, id_column: Any, after_id: int | None, limit: int
) -> tuple[list[Any], int | None]:
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if after_id is not None:
        query = query.where(id_column > after_id)
    rows = list(session.execute(query.order_by(id_column).limit(limit + 1)))
    page = rows[:limit]
    return page, (page[-1][0].id if len(rows) > limit else None)


def _one(session: Session, query: Any, public_id: str, *, kind: str = "invoice") -> Any:
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound(kind, public_id)
    return row


def _invoice_id(db: Database, organization_id: int, public_id: str) -> int:
    with db.reading() as session:
        invoice_id = session.scalar(
            select(Invoice.id).where(
                Invoice.organization_id == organization_id, Invoice.public_id == public_id
            )
        )
    if invoice_id is None:
        raise NotFound("invoice", public_id)
    return invoice_id


def line_view(line: LineColumns) -> LineView:
    """A stored line (an invoice's, credit note's or quote's) as the editors and the API read it."""
    return LineView(
        line.description,
        line.quantity,
        line.unit_price_minor,
        line.discount_percent,
        line.tax_name,
        line.tax_rate_percent,
        line.amount_minor,
        line.discount_minor,
        line.tax_minor,
    )


def _invoice_view(invoice: Invoice, client: Client) -> InvoiceView:
    return InvoiceView(
        invoice.id,
        invoice.public_id,
        invoice.number,
        invoice.kind,
        invoice.status,
        client.public_id,
        invoice.currency,
        invoice.issue_date,
        invoice.due_date,
        invoice.subtotal_minor,
        invoice.discount_minor,
        invoice.tax_minor,
        invoice.total_minor,
        invoice.balance_due_minor,
        invoice.notes,
        invoice.terms,
        tuple(line_view(line) for line in invoice.lines),
        invoice.sent_at,
        invoice.voided_at,
        invoice.created_at,
    )


def _credit_note_view(note: CreditNote, client: Client) -> CreditNoteView:
    return CreditNoteView(
        note.id,
        note.public_id,
        note.number,
        note.status,
        client.public_id,
        note.currency,
        note.issue_date,
        note.reason,
        note.subtotal_minor,
        note.discount_minor,
        note.tax_minor,
        note.total_minor,
        note.remaining_minor,
        tuple(line_view(line) for line in note.lines),
        note.issued_at,
        note.voided_at,
        note.created_at,
    )


def _allocations(session: Session, payment_ids: list[int]) -> dict[int, list[AllocationView]]:
    found: dict[int, list[AllocationView]] = {payment_id: [] for payment_id in payment_ids}
    if not payment_ids:
        return found
    rows = session.execute(
        select(Allocation.payment_id, Invoice.public_id, Invoice.number, Allocation.amount_minor)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Allocation.payment_id.in_(payment_ids), Allocation.kind == AllocationKind.PAYMENT)
        .order_by(Allocation.id)
    )
    for payment_id, public_id, number, amount_minor in rows:
        if payment_id is not None:  # always, by the where clause; the column is nullable
            found[payment_id].append(AllocationView(public_id, number, amount_minor))
    return found


def _public_ids(session: Session, invoice_ids: list[int]) -> dict[int, str]:
    if not invoice_ids:
        return {}
    return dict(
        session.execute(select(Invoice.id, Invoice.public_id).where(Invoice.id.in_(invoice_ids))).all()
    )


def _payment_view(
    payment: Payment, client: Client, allocations: dict[int, list[AllocationView]], retainers: dict[int, str]
) -> PaymentView:
    return PaymentView(
        payment.id,
        payment.public_id,
        payment.receipt_number,
        payment.status,
        payment.kind,
        client.public_id,
        payment.currency,
        payment.amount_minor,
        payment.unapplied_minor,
        payment.method,
        payment.reference,
        retainers.get(payment.retainer_invoice_id) if payment.retainer_invoice_id else None,
        tuple(allocations.get(payment.id, ())),
        payment.received_at,
        payment.created_at,
    )
