"""Quotes as the business writes them: drafts saved and replaced, sent (with their e-mail), listed.

The lines, taxes and discounts are read and checked as an invoice draft's are
(``services.draft_invoices``); a quote adds its valid-until day and an optional deposit percentage.
Only drafts are edited. Every check is made before anything is written, each error keyed by its field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from models import Client, Organization, Quote, QuoteLine, QuoteStatus
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.document_lines import priced_lines
from services.draft_invoices import chosen_client_id, document_problems
from services.errors import InvalidDetails, InvalidStatusChange, NotFound
from services.i18n import _
from services.invoices import NO_LINES_TO_SEND
from services.money import Money
from services.numbering import next_number
from services.quote_documents import QuoteDocument, business_day, quote_document, status_label
from services.quote_emails import queue_quote_sent_email
from services.records import get_client
from services.totals import HUNDRED, LineInput

PAGE_SIZE = 25
EXPIRED = "expired"
STATUS_FILTERS = (QuoteStatus.DRAFT, QuoteStatus.SENT, EXPIRED, QuoteStatus.ACCEPTED, QuoteStatus.DECLINED)


@dataclass(frozen=True)
class QuoteRow:
    """A line of the business's quote list."""

    public_id: str
    number: str
    client_name: str
    issue_date: date
    valid_until: date
    total: Money
    status_label: str


@dataclass(frozen=True)
class QuotePage:
    rows: tuple[QuoteRow, ...]
    total_count: int
    page: int
    page_count: int


def quote_sheet(
    db: Database, organization_id: int, public_id: str, *, now: datetime, with_logo: bool = False
) -> QuoteDocument:
    """One of the business's quotes, drafts too; anyone else's is ``NotFound``."""
    with db.reading() as session:
        quote = _business_quote(session, organization_id, public_id)
        return quote_document(session, quote, now=now, with_logo=with_logo)


def editable_quote(db: Database, organization_id: int, public_id: str, *, now: datetime) -> QuoteDocument:
    """The business's draft quote to edit; ``InvalidStatusChange`` once it was sent."""
    document = quote_sheet(db, organization_id, public_id, now=now)
    if document.status != QuoteStatus.DRAFT:
        raise InvalidStatusChange("quote", document.number, document.status, "edited")
    return document


def list_quotes(
    db: Database,
    organization_id: int,
    *,
    search: str = "",
    status: str = "",
    page: int = 1,
    now: datetime,
) -> QuotePage:
    """The business's quotes, newest first, searched by number or client and filtered by a status of
    ``STATUS_FILTERS`` ("" for all; *expired* and *sent* as the business's day has them), ``PAGE_SIZE`` a
    page."""
    with db.reading() as session:
        time_zone = session.get_one(Organization, organization_id).time_zone
        today = business_day(now, time_zone)
        where = [Quote.organization_id == organization_id, *_status_is(status, today)]
        if search.strip():
            words = search.strip().lower()
            where.append(
                func.lower(Quote.number).contains(words, autoescape=True)
                | func.lower(Client.display_name).contains(words, autoescape=True)
                | func.lower(Client.company_name).contains(words, autoescape=True)
            )
        count = (
            session.scalar(
                select(func.count())
                .select_from(Quote)
                .join(Client, Client.id == Quote.client_id)
                .where(*where)
            )
            or 0
        )
        page_count = max(1, -(-count // PAGE_SIZE))
        page = min(max(page, 1), page_count)
        rows = session.execute(
            select(Quote, Client.display_name)
            .join(Client, Client.id == Quote.client_id)
            .where(*where)
            .order_by(Quote.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
        return QuotePage(
            tuple(
                QuoteRow(
                    quote.public_id,
                    quote.number,
                    name,
                    quote.issue_date,
                    quote.valid_until,
                    Money(quote.total_minor, quote.currency),
                    status_label(quote.status, quote.valid_until, today),
                )
                for quote, name in rows
            ),
            count,
            page,
            page_count,
        )


def create_quote(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    issue_date: date,
    valid_until: date,
    deposit_percent: Decimal,
    lines: Sequence[LineInput],
    notes: str = "",
    terms: str = "",
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> str:
    """Save a new draft quote, numbered in the quotes' own series; its public id.

    ``InvalidDetails`` (nothing written) when the client is missing, the valid-until day is before the
    issue date, the deposit is not between 0 and 100 % or a line is wrong.
    """
    _check(client_public_id, issue_date, valid_until, deposit_percent, lines, notes, terms)
    now = clock()
    with db.transaction() as session:
        client = get_client(session, chosen_client_id(session, organization_id, client_public_id))
        quote = Quote(
            organization_id=organization_id,
            client_id=client.id,
            number=next_number(session, organization_id, "quote"),
            status=QuoteStatus.DRAFT,
            issue_date=issue_date,
            valid_until=valid_until,
            deposit_percent=deposit_percent,
            currency=client.currency,
            notes=notes,
            terms=terms,
            created_at=now,
        )
        quote.lines = priced_lines(quote, lines, QuoteLine)
        session.add(quote)
        session.flush()
        record_event(session, "quote.created", at=now, staff_user_id=staff_user_id, client_id=client.id,
                     subject=("quote", quote.id))  # fmt: skip
        return quote.public_id


def update_quote(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    client_public_id: str,
    issue_date: date,
    valid_until: date,
    deposit_percent: Decimal,
    lines: Sequence[LineInput],
    notes: str = "",
    terms: str = "",
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> str:
    """Replace a draft quote's client, dates, deposit, lines and texts, with the row locked: a quote
    sent meanwhile is refused (``InvalidStatusChange``) and left as it is. The number stays."""
    _check(client_public_id, issue_date, valid_until, deposit_percent, lines, notes, terms)
    with db.transaction() as session:
        quote = _locked(session, organization_id, public_id)
        if quote.status != QuoteStatus.DRAFT:
            raise InvalidStatusChange("quote", quote.number, quote.status, "edited")
        client = get_client(session, chosen_client_id(session, organization_id, client_public_id))
        quote.client_id = client.id
        quote.currency = client.currency
        quote.issue_date = issue_date
        quote.valid_until = valid_until
        quote.deposit_percent = deposit_percent
        quote.notes = notes
        quote.terms = terms
        quote.lines = priced_lines(quote, lines, QuoteLine)
        record_event(session, "quote.edited", at=clock(), staff_user_id=staff_user_id, client_id=client.id,
                     subject=("quote", quote.id))  # fmt: skip
        return quote.public_id


def send_quote(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    base_url: str,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> str:
    """Send a draft quote: the customer sees it in the portal, and the client's contacts are e-mailed
    a link to it in the same transaction. Returns the client's public id (whose pages to refresh).

    A quote without lines, or one whose valid-until day has already passed, is refused (``InvalidDetails``).
    """
    now = clock()
    with db.transaction() as session:
        quote = _locked(session, organization_id, public_id)
        if quote.status != QuoteStatus.DRAFT:
            raise InvalidStatusChange("quote", quote.number, quote.status, "sent")
        if not quote.lines:
            raise InvalidDetails({"lines": NO_LINES_TO_SEND})
        time_zone = session.get_one(Organization, organization_id).time_zone
        if quote.valid_until < business_day(now, time_zone):
            raise InvalidDetails(
                {"valid_until": _("The quote's valid-until date has passed: change it before sending.")}
            )
        quote.status = QuoteStatus.SENT
        quote.sent_at = now
        queue_quote_sent_email(session, quote, base_url=base_url, now=now)
        record_event(session, "quote.sent", at=now, staff_user_id=staff_user_id, client_id=quote.client_id,
                     subject=("quote", quote.id))  # fmt: skip
        return session.get_one(Client, quote.client_id).public_id


def _status_is(status: str, today: date) -> list[ColumnElement[bool]]:
    """The conditions of a status filter: an expired quote is a sent one whose last day has passed."""
    if status == EXPIRED:
        return [Quote.status == QuoteStatus.SENT, Quote.valid_until < today]
    if status == QuoteStatus.SENT:
        return [Quote.status == QuoteStatus.SENT, Quote.valid_until >= today]
    if status in STATUS_FILTERS:
        return [Quote.status == status]
    return []


def _check(
    client_public_id: str,
    issue_date: date,
    valid_until: date,
    deposit_percent: Decimal,
    lines: Sequence[LineInput],
    notes: str,
    terms: str,
) -> None:
    errors = document_problems(client_public_id, lines, notes, terms)
    if valid_until < issue_date:
        errors["valid_until"] = _("The valid-until date cannot be before the issue date.")
    if not deposit_percent.is_finite() or not (0 <= deposit_percent <= HUNDRED):
        errors["deposit"] = _("The deposit must be between 0 and 100 %.")
    elif deposit_percent != deposit_percent.quantize(Decimal("0.0001")):
        errors["deposit"] = _("The deposit can have at most 4 decimals.")
    if errors:
        raise InvalidDetails(errors)


def _business_quote(session: Session, organization_id: int, public_id: str) -> Quote:
    quote = session.scalars(
        select(Quote).where(Quote.organization_id == organization_id, Quote.public_id == public_id)
    ).one_or_none()
    if quote is None:
        raise NotFound("quote", public_id)
    return quote


def _locked(session: Session, organization_id: int, public_id: str) -> Quote:
    quote = session.scalars(
        select(Quote)
        .where(Quote.organization_id == organization_id, Quote.public_id == public_id)
        .options(selectinload(Quote.lines))
        .with_for_update()
    ).one_or_none()
    if quote is None:
        raise NotFound("quote", public_id)
    return quote
