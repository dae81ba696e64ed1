"""Comments on an invoice between the customer and the business: an official, append-only record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Comment, Invoice, Organization, PortalUser, StaffUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.conversations import mark_thread_read
from services.database import Database
from services.errors import CommentRejected, NotFound
from services.events import BUSINESS_INBOX_TOPIC, Events, invoice_comments_topic
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


def list_comments(db: Database, principal: Principal, invoice_public_id: str) -> tuple[CommentView, ...]:
    """The thread of one of the client's invoices, oldest first; ``mine`` marks the reader's comments."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, invoice_public_id)
        return _thread(session, invoice.id, portal_user_id=principal.portal_user_id)


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
        invoice = client_invoice(session, principal, invoice_public_id)
        take(session, COMMENTS, principal.client_id, now=now)
        comment = _post(session, invoice, text, now, portal_user_id=principal.portal_user_id)
        view = CommentView(comment.public_id, principal.name, False, text, comment.created_at, mine=True)
    _notify(events, invoice_public_id)
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
        return _thread(session, invoice.id, staff_user_id=staff_user_id)


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
        comment = _post(session, invoice, text, now, staff_user_id=staff.id)
        mark_thread_read(session, invoice.id, now)
        author = _business_author(session, staff)
        view = CommentView(comment.public_id, author, True, text, comment.created_at, mine=True)
        public_id = invoice.public_id
    _notify(events, public_id)
    return view


def _post(
    session: Session,
    invoice: Invoice,
    text: str,
    at: datetime,
    *,
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
) -> Comment:
    """Store a comment and its audit event in the caller's transaction."""
    comment = Comment(
        invoice_id=invoice.id,
        portal_user_id=portal_user_id,
        staff_user_id=staff_user_id,
        body=text,
        created_at=at,
    )
    session.add(comment)
    session.flush()
    record_event(
        session,
        COMMENTS.action if portal_user_id else "comment.replied",
        at=at,
        portal_user_id=portal_user_id,
        staff_user_id=staff_user_id,
        client_id=invoice.client_id,
        subject=("invoice", invoice.id),
    )
    return comment


def _notify(events: Events | None, invoice_public_id: str) -> None:
    """Tell open pages after the commit, so they read the comment when they refresh: the invoice's
    page and the business's inbox."""
    if events is not None:
        events.publish(invoice_comments_topic(invoice_public_id))
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


def _thread(
    session: Session, invoice_id: int, *, portal_user_id: int | None = None, staff_user_id: int | None = None
) -> tuple[CommentView, ...]:
    """The thread, ``mine`` set on the comments of its reader: ``portal_user_id`` or ``staff_user_id``."""
    rows = session.execute(
        select(Comment, PortalUser.name, StaffUser.name, Organization.name)
        .outerjoin(PortalUser, PortalUser.id == Comment.portal_user_id)
        .outerjoin(StaffUser, StaffUser.id == Comment.staff_user_id)
        .outerjoin(Organization, Organization.id == StaffUser.organization_id)
        .where(Comment.invoice_id == invoice_id)
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
