"""Credit notes: issued amounts the customer can apply to invoices or have refunded.

The business issues and voids them (the back office); the customer reads their own, on screen and as
a PDF: the lines, what each part was applied to or refunded, and what remains as credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Allocation,
    Client,
    CreditNote,
    CreditNoteLine,
    CreditNoteStatus,
    Invoice,
    Organization,
    Refund,
    RefundSource,
    RefundStatus,
)
from services.amount_bounds import check_document
from services.clock import Clock, utc_now
from services.credits import _available
from services.database import Database
from services.errors import DocumentHasApplications, InvalidStatusChange, NotFound
from services.i18n import N_, _
from services.invoice_detail import DocumentLine, Party, business_party, client_party, document_lines
from services.money import Money
from services.numbering import next_number
from services.paging import page_number
from services.principal import Principal
from services.records import DocumentRef, get_client
from services.totals import LineInput, document_totals, line_columns

MAX_PAGE_SIZE = 100
# A credit note's status as the customer reads it (the English label is also the badge colour's key).
STATUS_LABELS = {
    CreditNoteStatus.DRAFT: N_("Draft"),
    CreditNoteStatus.OPEN: N_("Open"),
    CreditNoteStatus.CLOSED: N_("Used"),
    CreditNoteStatus.VOID: N_("Void"),
}


@dataclass(frozen=True)
class CreditUse:
    """Part of a credit note that was used: applied to one of the client's invoices, or refunded."""

    kind: str  # "applied" | "refund"
    day: date
    amount: Money
    invoice_number: str = ""  # the invoice it was applied to
    invoice_public_id: str = ""


@dataclass(frozen=True)
class CreditNoteDocument:
    """One credit note as the customer reads it, on screen and in the PDF: plain data, no ORM objects."""

    public_id: str
    number: str
    status: str  # open | closed | void
    status_label: str  # English, one of STATUS_LABELS: translated where shown
    issue_date: date
    reason: str
    business: Party
    client: Party
    lines: tuple[DocumentLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    uses: tuple[CreditUse, ...]  # oldest first
    remaining: Money  # total - applied - refunded: still available as credit (nothing once voided)
    locale: str
    logo: bytes | None = None

    @property
    def title(self) -> str:
        return _("Credit Note")


@dataclass(frozen=True)
class CreditNoteSummary:
    """A credit note in a list: Home shows those with credit left."""

    public_id: str
    number: str
    issue_date: date
    total: Money
    remaining: Money


@dataclass(frozen=True)
class CreditNoteRow:
    """A credit note as the back office lists it."""

    public_id: str
    number: str
    client_public_id: str
    client_name: str
    issue_date: date
    total: Money
    remaining: Money  # credit still available from it
    status: str  # open | closed | void
    reason: str


@dataclass(frozen=True)
class CreditNoteList:
    rows: list[CreditNoteRow]
    total_count: int
    page: int
    page_size: int


def list_business_credit_notes(
    db: Database, organization_id: int, *, page: int = 1, page_size: int = 25
) -> CreditNoteList:
    """The business's credit notes, newest first, one page at a time."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = page_number(page)
    with db.reading() as session:
        total = session.scalar(
            select(func.count()).select_from(CreditNote).where(CreditNote.organization_id == organization_id)
        )
        rows = session.execute(
            select(CreditNote, Client.public_id, Client.display_name)
            .join(Client, Client.id == CreditNote.client_id)
            .where(CreditNote.organization_id == organization_id)
            .order_by(CreditNote.issue_date.desc(), CreditNote.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
        return CreditNoteList(
            [
                CreditNoteRow(
                    note.public_id,
                    note.number,
                    client_public_id,
                    client_name,
                    note.issue_date,
                    Money(note.total_minor, note.currency),
                    Money(note.remaining_minor, note.currency),
                    note.status,
                    note.reason,
                )
                for note, client_public_id, client_name in rows
            ],
            int(total or 0),
            page,
            page_size,
        )


def issue_credit_note(
    db: Database,
    *,
    client_id: int,
    lines: Sequence[LineInput],
    issue_date: date,
    reason: str = "",
    clock: Clock = utc_now,
) -> DocumentRef:
    """Create and issue a credit note; its total becomes available credit at once. ``InvalidLine`` for a
    bad line and ``AmountTooLarge`` for an amount above the bound write nothing."""
    if not lines:
        raise ValueError("a credit note needs at least one line")
    with db.transaction() as session:
        client = get_client(session, client_id)
        totals = document_totals(lines, client.currency)
        check_document(lines, totals)
        now = clock()
        note = CreditNote(
            organization_id=client.organization_id,
            client_id=client.id,
            number=next_number(session, client.organization_id, "credit_note"),
            status=CreditNoteStatus.OPEN,
            issue_date=issue_date,
            reason=reason,
            currency=client.currency,
            subtotal_minor=totals.subtotal.minor,
            discount_minor=totals.discount.minor,
            tax_minor=totals.tax.minor,
            total_minor=totals.total.minor,
            remaining_minor=totals.total.minor,
            issued_at=now,
            created_at=now,
        )
        note.lines = [CreditNoteLine(**values) for values in line_columns(lines, totals)]
        session.add(note)
        session.flush()
        return DocumentRef(note.id, note.public_id, note.number)


def void_credit_note(db: Database, credit_note_id: int, *, clock: Clock = utc_now) -> None:
    """Void an issued credit note of which nothing was applied or refunded."""
    with db.transaction() as session:
        note = session.get(CreditNote, credit_note_id, with_for_update=True)
        if note is None:
            raise NotFound("credit note", credit_note_id)
        if note.status != CreditNoteStatus.OPEN:
            raise InvalidStatusChange("credit note", note.number, note.status, "voided")
        if note.remaining_minor != note.total_minor:
            raise DocumentHasApplications("credit note", note.number)
        _sources, unreserved = _available(session, note.client_id, RefundSource.CREDIT, own_request=None)
        if unreserved < note.remaining_minor:
            # Open refund requests hold this credit; voiding it would leave them nothing to pay out.
            raise InvalidStatusChange("credit note", note.number, "reserved for a refund request", "voided")
        note.status = CreditNoteStatus.VOID
        note.remaining_minor = 0
        note.voided_at = clock()


def get_credit_note(
    db: Database, principal: Principal, public_id: str, *, with_logo: bool = False
) -> CreditNoteDocument:
    """The signed-in client's issued credit note, with what it was applied to and refunded; a draft or
    another client's credit note is ``NotFound``. ``with_logo`` adds the business's logo (for the PDF)."""
    with db.reading() as session:
        note = session.scalars(
            select(CreditNote).where(
                CreditNote.public_id == public_id,
                CreditNote.client_id == principal.client_id,
                CreditNote.status != CreditNoteStatus.DRAFT,
            )
        ).one_or_none()
        if note is None:
            raise NotFound("credit note", public_id)
        lines = session.scalars(
            select(CreditNoteLine)
            .where(CreditNoteLine.credit_note_id == note.id)
            .order_by(CreditNoteLine.position)
        ).all()
        business, locale = business_party(session, note.organization_id)
        currency = note.currency

        def money(minor: int) -> Money:
            return Money(minor, currency)

        return CreditNoteDocument(
            public_id=note.public_id,
            number=note.number,
            status=note.status,
            status_label=STATUS_LABELS[CreditNoteStatus(note.status)],
            issue_date=note.issue_date,
            reason=note.reason,
            business=business,
            client=client_party(session, note.client_id),
            lines=document_lines(lines, currency),
            subtotal=money(note.subtotal_minor),
            discount=money(note.discount_minor),
            tax=money(note.tax_minor),
            total=money(note.total_minor),
            uses=_uses(session, note),
            remaining=money(note.remaining_minor),
            locale=locale,
            logo=session.get_one(Organization, note.organization_id).logo if with_logo else None,
        )


def _uses(session: Session, note: CreditNote) -> tuple[CreditUse, ...]:
    """What the credit note paid: its applications to invoices and its refunds (those not failed)."""
    applied = session.execute(
        select(Allocation.created_at, Allocation.amount_minor, Invoice.number, Invoice.public_id)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Allocation.credit_note_id == note.id, Invoice.client_id == note.client_id)
        .order_by(Allocation.created_at, Allocation.id)
    ).all()
    refunds = session.execute(
        select(Refund.refunded_at, Refund.amount_minor)
        .where(Refund.credit_note_id == note.id, Refund.status != RefundStatus.FAILED)
        .order_by(Refund.refunded_at, Refund.id)
    ).all()
    currency = note.currency
    uses = [
        CreditUse(
            "applied", row.created_at.date(), Money(row.amount_minor, currency), row.number, row.public_id
        )
        for row in applied
    ]
    uses += [
        CreditUse("refund", row.refunded_at.date(), Money(row.amount_minor, currency)) for row in refunds
    ]
    return tuple(sorted(uses, key=lambda use: use.day))  # a stable sort: applications first within a day


def credit_notes_with_credit(session: Session, client_id: int) -> tuple[CreditNoteSummary, ...]:
    """The client's issued credit notes that still have credit to use, oldest first (as credit is drawn)."""
    notes = session.execute(
        select(
            CreditNote.public_id,
            CreditNote.number,
            CreditNote.issue_date,
            CreditNote.currency,
            CreditNote.total_minor,
            CreditNote.remaining_minor,
        )
        .where(
            CreditNote.client_id == client_id,
            CreditNote.status == CreditNoteStatus.OPEN,
            CreditNote.remaining_minor > 0,
        )
        .order_by(CreditNote.issue_date, CreditNote.id)
    ).all()
    return tuple(
        CreditNoteSummary(
            row.public_id,
            row.number,
            row.issue_date,
            Money(row.total_minor, row.currency),
            Money(row.remaining_minor, row.currency),
        )
        for row in notes
    )
