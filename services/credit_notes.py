"""Credit notes: issued amounts the customer can apply to invoices or have refunded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from models import Client, CreditNote, CreditNoteLine, CreditNoteStatus, RefundSource
from services.amount_bounds import check_document
from services.clock import Clock, utc_now
from services.credits import _available
from services.database import Database
from services.errors import DocumentHasApplications, InvalidStatusChange, NotFound
from services.money import Money
from services.numbering import next_number
from services.paging import page_number
from services.records import DocumentRef, get_client
from services.totals import LineInput, document_totals, line_columns

MAX_PAGE_SIZE = 100


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
