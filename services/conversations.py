"""The business's inbox: customers' comments on invoices and quotes (one entry per thread), messages and
reviews, newest first, with what the business has not read yet."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from models import Client, Comment, Invoice, Message, PortalUser, Quote, Review, StaffUser
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import NotFound
from services.events import BUSINESS_INBOX_TOPIC, Events

DEFAULT_LIMIT = 50


class InboxKind(StrEnum):
    COMMENT = "comment"
    MESSAGE = "message"
    REVIEW = "review"


class InboxFilter(StrEnum):
    ALL = "all"
    COMMENTS = "comments"
    MESSAGES = "messages"
    REVIEWS = "reviews"
    UNREAD = "unread"


FILTER_KINDS: dict[InboxFilter, tuple[InboxKind, ...]] = {
    InboxFilter.ALL: tuple(InboxKind),
    InboxFilter.COMMENTS: (InboxKind.COMMENT,),
    InboxFilter.MESSAGES: (InboxKind.MESSAGE,),
    InboxFilter.REVIEWS: (InboxKind.REVIEW,),
    InboxFilter.UNREAD: tuple(InboxKind),
}


@dataclass(frozen=True)
class InboxItem:
    """One entry: a comment thread (shown by its latest comment), a message or a review."""

    kind: InboxKind
    public_id: str  # the invoice's or quote's for a comment thread; the message's or the review's otherwise
    client_name: str
    author: str  # who wrote the latest word; for a thread it may be the business
    author_email: str  # the customer's address (empty when the latest word is the business's)
    body: str  # plain text; never rendered as HTML
    at: datetime
    unread: int  # the customer's entries the business has not opened (0 or 1 but in a thread)
    subject: str = ""
    rating: int | None = None
    invoice_id: int | None = None
    invoice_number: str = ""
    quote_number: str = ""  # a thread about a quote has this instead of an invoice's id and number
    from_business: bool = False
    comment_count: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.public_id}"


@dataclass(frozen=True)
class Inbox:
    items: tuple[InboxItem, ...]
    unread: int  # unread entries of every kind, whatever the filter
    has_more: bool


def inbox(
    db: Database,
    organization_id: int,
    *,
    filter: InboxFilter = InboxFilter.ALL,
    limit: int = DEFAULT_LIMIT,
    keep: Collection[str] = (),
) -> Inbox:
    """The business's conversations, newest first; ``limit`` entries at most.

    ``keep`` names entries (public ids) that the Unread filter keeps although they are read: the ones
    the reader has open, so that reading an entry does not make it vanish under their eyes.
    """
    only_unread = filter is InboxFilter.UNREAD
    kinds = FILTER_KINDS[filter]
    with db.reading() as session:
        items: list[InboxItem] = []
        if InboxKind.COMMENT in kinds:
            for document in (Invoice, Quote):
                items += _threads(session, organization_id, document, only_unread, keep, limit + 1)
        if InboxKind.MESSAGE in kinds:
            items += _messages(session, organization_id, only_unread, keep, limit + 1)
        if InboxKind.REVIEW in kinds:
            items += _reviews(session, organization_id, only_unread, keep, limit + 1)
        unread = _unread_count(session, organization_id)
    items.sort(key=lambda item: item.at, reverse=True)
    return Inbox(tuple(items[:limit]), unread, len(items) > limit)


def unread_count(db: Database, organization_id: int) -> int:
    """How many comment threads, messages and reviews the business has not opened yet."""
    with db.reading() as session:
        return _unread_count(session, organization_id)


def mark_read(
    db: Database,
    organization_id: int,
    kind: InboxKind,
    public_id: str,
    *,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> bool:
    """The business opened an entry: a thread's customer comments, a message or a review are read.

    Returns whether anything was unread. Raises ``NotFound`` for an entry of another business.
    """
    now = clock()
    with db.transaction() as session:
        if kind is InboxKind.COMMENT:
            invoice_id = session.scalar(
                select(Invoice.id).where(
                    Invoice.public_id == public_id, Invoice.organization_id == organization_id
                )
            )
            quote_id = session.scalar(
                select(Quote.id).where(Quote.public_id == public_id, Quote.organization_id == organization_id)
            )
            if invoice_id is not None:
                changed = mark_thread_read(session, invoice_id, now)
            elif quote_id is not None:
                changed = mark_quote_thread_read(session, quote_id, now)
            else:
                raise NotFound("invoice", public_id)
        else:
            model: type[Message] | type[Review] = Message if kind is InboxKind.MESSAGE else Review
            row_id = session.scalar(
                select(model.id)
                .join(Client, Client.id == model.client_id)
                .where(model.public_id == public_id, Client.organization_id == organization_id)
            )
            if row_id is None:
                raise NotFound(kind.value, public_id)
            result: Any = session.execute(
                update(model).where(model.id == row_id, model.read_at.is_(None)).values(read_at=now)
            )
            changed = bool(result.rowcount)
    if changed and events is not None:
        events.publish(BUSINESS_INBOX_TOPIC)  # another open inbox updates its unread count
    return changed


def mark_thread_read(session: Session, invoice_id: int, at: datetime) -> bool:
    """Mark the customer's comments on an invoice read, in the caller's transaction."""
    return _mark_comments_read(session, Comment.invoice_id == invoice_id, at)


def mark_quote_thread_read(session: Session, quote_id: int, at: datetime) -> bool:
    """Mark the customer's comments on a quote read, in the caller's transaction."""
    return _mark_comments_read(session, Comment.quote_id == quote_id, at)


def _mark_comments_read(session: Session, thread: Any, at: datetime) -> bool:
    result: Any = session.execute(update(Comment).where(thread, _unread_comment()).values(read_at=at))
    return bool(result.rowcount)


def _unread_comment() -> Any:
    return and_(Comment.portal_user_id.is_not(None), Comment.read_at.is_(None))


def _threads(
    session: Session,
    organization_id: int,
    document: type[Invoice] | type[Quote],
    only_unread: bool,
    keep: Collection[str],
    limit: int,
) -> list[InboxItem]:
    """The comment threads on the business's invoices, or on its quotes: one entry each, by its latest."""
    about = Comment.quote_id if document is Quote else Comment.invoice_id
    stats = (
        select(
            about.label("document_id"),
            func.max(Comment.id).label("latest_id"),
            func.count().label("comments"),
            func.count(case((_unread_comment(), 1))).label("unread"),
        )
        .join(document, document.id == about)
        .where(document.organization_id == organization_id)
        .group_by(about)
        .subquery()
    )
    query = (
        select(
            Comment, document, Client.display_name, PortalUser.name, PortalUser.email, StaffUser.name, stats
        )
        .join(stats, stats.c.latest_id == Comment.id)
        .join(document, document.id == about)
        .join(Client, Client.id == document.client_id)
        .outerjoin(PortalUser, PortalUser.id == Comment.portal_user_id)
        .outerjoin(StaffUser, StaffUser.id == Comment.staff_user_id)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    if only_unread:
        query = query.where(or_(stats.c.unread > 0, document.public_id.in_(keep)))
    items = []
    for row in session.execute(query).all():
        comment, subject, client_name, customer, email, staff = row[:6]
        numbers = {"quote_number": subject.number} if document is Quote else {
            "invoice_id": subject.id, "invoice_number": subject.number
        }  # fmt: skip
        items.append(
            InboxItem(
                kind=InboxKind.COMMENT,
                public_id=subject.public_id,
                client_name=client_name,
                author=customer or staff or "",
                author_email=email or "",
                body=comment.body,
                at=comment.created_at,
                unread=row.unread,
                from_business=comment.staff_user_id is not None,
                comment_count=row.comments,
                **numbers,
            )
        )
    return items


def _messages(
    session: Session, organization_id: int, only_unread: bool, keep: Collection[str], limit: int
) -> list[InboxItem]:
    query = (
        select(Message, Client.display_name, PortalUser.name, PortalUser.email)
        .join(Client, Client.id == Message.client_id)
        .join(PortalUser, PortalUser.id == Message.portal_user_id)
        .where(Client.organization_id == organization_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    if only_unread:
        query = query.where(or_(Message.read_at.is_(None), Message.public_id.in_(keep)))
    return [
        InboxItem(
            kind=InboxKind.MESSAGE,
            public_id=message.public_id,
            client_name=client_name,
            author=name,
            author_email=email,
            body=message.body,
            at=message.created_at,
            unread=int(message.read_at is None),
            subject=message.subject,
        )
        for message, client_name, name, email in session.execute(query).all()
    ]


def _reviews(
    session: Session, organization_id: int, only_unread: bool, keep: Collection[str], limit: int
) -> list[InboxItem]:
    query = (
        select(Review, Client.display_name, PortalUser.name, PortalUser.email)
        .join(Client, Client.id == Review.client_id)
        .join(PortalUser, PortalUser.id == Review.portal_user_id)
        .where(Client.organization_id == organization_id)
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(limit)
    )
    if only_unread:
        query = query.where(or_(Review.read_at.is_(None), Review.public_id.in_(keep)))
    return [
        InboxItem(
            kind=InboxKind.REVIEW,
            public_id=review.public_id,
            client_name=client_name,
            author=name,
            author_email=email,
            body=review.body,
            at=review.created_at,
            unread=int(review.read_at is None),
            rating=review.rating,
        )
        for review, client_name, name, email in session.execute(query).all()
    ]


def _unread_count(session: Session, organization_id: int) -> int:
    threads = (
        select(func.count(func.distinct(Comment.invoice_id)))
        .join(Invoice, Invoice.id == Comment.invoice_id)
        .where(Invoice.organization_id == organization_id, _unread_comment())
    )
    quote_threads = (
        select(func.count(func.distinct(Comment.quote_id)))
        .join(Quote, Quote.id == Comment.quote_id)
        .where(Quote.organization_id == organization_id, _unread_comment())
    )
    messages = (
        select(func.count())
        .select_from(Message)
        .join(Client, Client.id == Message.client_id)
        .where(Client.organization_id == organization_id, Message.read_at.is_(None))
    )
    reviews = (
        select(func.count())
        .select_from(Review)
        .join(Client, Client.id == Review.client_id)
        .where(Client.organization_id == organization_id, Review.read_at.is_(None))
    )
    return sum(session.scalar(query) or 0 for query in (threads, quote_threads, messages, reviews))
