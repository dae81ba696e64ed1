"""Comments on an invoice or a quote between the customer and the business: an official, append-only record.

One thread per document. An invoice's thread is also in the business's inbox (``services.conversations``);
a quote's is answered on the quote's page in the back office.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import Comment, Invoice, Organization, PortalUser, Quote, QuoteStatus, StaffUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.conversations import mark_quote_thread_read, mark_thread_read
from services.database import Database
from services.errors import CommentRejected, NotFound
from services.events import BUSINESS_INBOX_TOPIC, Events, invoice_comments_topic, quote_comments_topic
from services.principal import Principal
from services.rate_limits import COMMENTS, take
from services.records import client_invoice

MAX_COMMENT_LENGTH = 2000


@dataclass(frozen=True)
class CommentView:
    public_id: str
    author: str
    from_business: bool
    body: str  # plain text; never rendered as HTML
    created_at: datetime
    mine: bool = False  # written by the person reading the thread


@dataclass(frozen=True)
class _Subject:
    """The document a thread is about: its kind, row, client and the topic its open pages follow."""

    kind: str  # invoice | quote
    id: int
    client_id: int
    topic: str

    def comments(self) -> ColumnElement[bool]:
        """The condition that picks this thread's comments."""
        return Comment.quote_id == self.id if self.kind == "quote" else Comment.invoice_id == self.id


def list_comments(db: Database, principal: Principal, invoice_public_id: str) -> tuple[CommentView, ...]:
    """The thread of one of the client's invoices, oldest first; ``mine`` marks the reader's comments."""
    with db.reading() as session:
        subject = _invoice_subject(client_invoice(session, principal, invoice_public_id))
        return _thread(session, subject, portal_user_id=principal.portal_user_id)


def list_quote_comments(db: Database, principal: Principal, quote_public_id: str) -> tuple[CommentView, ...]:
    """The thread of one of the client's sent quotes, as ``list_comments`` gives an invoice's."""
    with db.reading() as session:
        subject = _client_quote_subject(session, principal, quote_public_id)
        return _thread(session, subject, portal_user_id=principal.portal_user_id)


def add_comment(
    db: Database,
    principal: Principal,
    invoice_public_id: str,
    body: str,
    *,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> CommentView:
    """The customer comments on their invoice; ``COMMENTS.most`` an hour per client
    (``CommentLimitReached``)."""
    text = _checked(body)
    now = clock()
    with db.transaction() as session:
        subject = _invoice_subject(client_invoice(session, principal, invoice_public_id))
        view = _customer_post(session, principal, subject, text, now)
    _notify(events, subject.topic)
    return view


def add_quote_comment(
    db: Database,
    principal: Principal,
    quote_public_id: str,
    body: str,
    *,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> CommentView:
    """The customer comments on their quote, within the same hourly limit as invoice comments."""
    text = _checked(body)
    now = clock()
    with db.transaction() as session:
        subject = _client_quote_subject(session, principal, quote_public_id)
        view = _customer_post(session, principal, subject, text, now)
    _notify(events, subject.topic)
    return view


def business_thread(
    db: Database, organization_id: int, invoice_id: int, *, staff_user_id: int | None = None
) -> tuple[CommentView, ...]:
    """An invoice's thread as the business reads it in its inbox, oldest first; ``mine`` marks the
    comments of the staff member ``staff_user_id`` reading it."""
    with db.reading() as session:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None or invoice.organization_id != organization_id:
            raise NotFound("invoice", invoice_id)
        return _thread(session, _invoice_subject(invoice), staff_user_id=staff_user_id)


def business_quote_thread(
    db: Database, organization_id: int, quote_public_id: str, *, staff_user_id: int | None = None
) -> tuple[CommentView, ...]:
    """A quote's thread as the business reads it on the quote's page, oldest first."""
    with db.reading() as session:
        subject = _business_quote_subject(session, organization_id, quote_public_id)
        return _thread(session, subject, staff_user_id=staff_user_id)


def reply_as_business(
    db: Database,
    *,
    staff_user_id: int,
    invoice_id: int,
    body: str,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> CommentView:
    """The business answers on an invoice's thread; the customer's open page shows it.

    Answering reads the thread: the customer's comments in it are no longer unread.
    """
    text = _checked(body)
    with db.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        staff = session.get(StaffUser, staff_user_id)
        if invoice is None or staff is None or staff.organization_id != invoice.organization_id:
            raise NotFound("invoice", invoice_id)
        now = clock()
        subject = _invoice_subject(invoice)
        view = _business_post(session, staff, subject, text, now)
        mark_thread_read(session, invoice.id, now)
    _notify(events, subject.topic)
    return view


def reply_on_quote(
    db: Database,
    *,
    staff_user_id: int,
    quote_public_id: str,
    body: str,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> CommentView:
    """The business answers on a quote's thread (a draft's too, seen once it is sent); reading it so."""
    text = _checked(body)
    with db.transaction() as session:
        staff = session.get(StaffUser, staff_user_id)
        if staff is None:
            raise NotFound("quote", quote_public_id)
        subject = _business_quote_subject(session, staff.organization_id, quote_public_id)
        now = clock()
        view = _business_post(session, staff, subject, text, now)
        mark_quote_thread_read(session, subject.id, now)
    _notify(events, subject.topic)
    return view


def _customer_post(
    session: Session, principal: Principal, subject: _Subject, text: str, now: datetime
) -> CommentView:
    take(session, COMMENTS, principal.client_id, now=now)
    comment = _post(session, subject, text, now, portal_user_id=principal.portal_user_id)
    return CommentView(comment.public_id, principal.name, False, text, comment.created_at, mine=True)


def _business_post(
    session: Session, staff: StaffUser, subject: _Subject, text: str, now: datetime
) -> CommentView:
    comment = _post(session, subject, text, now, staff_user_id=staff.id)
    author = _business_author(session, staff)
    return CommentView(comment.public_id, author, True, text, comment.created_at, mine=True)


def _post(
    session: Session,
    subject: _Subject,
    text: str,
    at: datetime,
    *,
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
) -> Comment:
    """Store a comment and its audit event in the caller's transaction."""
    comment = Comment(portal_user_id=portal_user_id, staff_user_id=staff_user_id, body=text, created_at=at)
    if subject.kind == "quote":
        comment.quote_id = subject.id
    else:
        comment.invoice_id = subject.id
    session.add(comment)
    session.flush()
    record_event(
        session,
        COMMENTS.action if portal_user_id else "comment.replied",
        at=at,
        portal_user_id=portal_user_id,
        staff_user_id=staff_user_id,
        client_id=subject.client_id,
        subject=(subject.kind, subject.id),
    )
    return comment


def _notify(events: Events | None, topic: str) -> None:
    """Tell open pages after the commit, so they read the comment when they refresh: the document's
    page and the business's inbox."""
    if events is not None:
        events.publish(topic)
        events.publish(BUSINESS_INBOX_TOPIC)


def _checked(body: str) -> str:
    text = body.strip()
    if not text:
        raise CommentRejected("empty")
    if len(text) > MAX_COMMENT_LENGTH:
        raise CommentRejected("too_long")
    return text


def _business_author(session: Session, staff: StaffUser) -> str:
    organization = session.get_one(Organization, staff.organization_id)
    return f"{staff.name} ({organization.name})"


def _invoice_subject(invoice: Invoice) -> _Subject:
    return _Subject("invoice", invoice.id, invoice.client_id, invoice_comments_topic(invoice.public_id))


def _quote_subject(quote: Quote | None, public_id: str) -> _Subject:
    if quote is None:
        raise NotFound("quote", public_id)
    return _Subject("quote", quote.id, quote.client_id, quote_comments_topic(quote.public_id))


def _client_quote_subject(session: Session, principal: Principal, public_id: str) -> _Subject:
    """The signed-in client's sent quote; a draft or another client's is ``NotFound``."""
    quote = session.scalars(
        select(Quote).where(
            Quote.public_id == public_id,
            Quote.client_id == principal.client_id,
            Quote.status != QuoteStatus.DRAFT,
        )
    ).one_or_none()
    return _quote_subject(quote, public_id)


def _business_quote_subject(session: Session, organization_id: int, public_id: str) -> _Subject:
    quote = session.scalars(
        select(Quote).where(Quote.public_id == public_id, Quote.organization_id == organization_id)
    ).one_or_none()
    return _quote_subject(quote, public_id)


def _thread(
    session: Session,
    subject: _Subject,
    *,
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
) -> tuple[CommentView, ...]:
    """The thread, ``mine`` set on the comments of its reader: ``portal_user_id`` or ``staff_user_id``."""
    rows = session.execute(
        select(Comment, PortalUser.name, StaffUser.name, Organization.name)
        .outerjoin(PortalUser, PortalUser.id == Comment.portal_user_id)
        .outerjoin(StaffUser, StaffUser.id == Comment.staff_user_id)
        .outerjoin(Organization, Organization.id == StaffUser.organization_id)
        .where(subject.comments())
        .order_by(Comment.created_at, Comment.id)
    ).all()
    return tuple(
        CommentView(
            public_id=comment.public_id,
            author=customer or f"{staff} ({business})",
            from_business=comment.staff_user_id is not None,
            body=comment.body,
            created_at=comment.created_at,
            mine=(portal_user_id is not None and comment.portal_user_id == portal_user_id)
            or (staff_user_id is not None and comment.staff_user_id == staff_user_id),
        )
        for comment, customer, staff, business in rows
    )
