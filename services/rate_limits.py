"""Per-client limits on everything a customer sends the business, in one place.

Send Email, reviews, comments, forwarded invoices and refund requests each have a ``Limit``: how many a
client may send within a window. The service that stores one calls ``take(session, LIMIT, client_id,
now=...)`` in the same transaction, before it writes: it counts the client's recent messages of that kind
in the audit log (each of them records its audit event in that transaction) and, once the window is
full, raises the limit's ``LimitReached`` error saying when the next may go.

Counting and storing must be one step, or parallel requests each see room for one more and all get
through. SQLite already runs one writing transaction at a time (``BEGIN IMMEDIATE``, services.database).
On PostgreSQL ``take`` first waits for a transaction-level advisory lock on (this module, the client):
a second request of the same client waits until the first has committed, then counts its message. An
advisory lock rather than a lock on the client's row, so that nothing else that locks or refers to that
row (a payment, a change of the client's details) ever waits on a message being sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import AuditEvent
from services.errors import (
    CommentLimitReached,
    ForwardLimitReached,
    LimitReached,
    MessageLimitReached,
    RefundRequestLimitReached,
    ReviewLimitReached,
)

# The advisory lock's first key: it names this use, so it never meets another use of advisory locks.
_LOCK_SPACE = 0x5241_5445  # "RATE"


@dataclass(frozen=True)
class Limit:
    action: str  # the audit event each message of this kind records
    most: int  # how many a client may send within ``window``
    window: timedelta
    error: type[LimitReached]


MESSAGES = Limit("message.sent", 10, timedelta(hours=1), MessageLimitReached)
REVIEWS = Limit("review.submitted", 5, timedelta(days=1), ReviewLimitReached)
COMMENTS = Limit("comment.added", 30, timedelta(hours=1), CommentLimitReached)
FORWARDS = Limit("invoice.forwarded", 20, timedelta(hours=1), ForwardLimitReached)
REFUND_REQUESTS = Limit("refund.requested", 5, timedelta(days=1), RefundRequestLimitReached)


def take(session: Session, limit: Limit, client_id: int, *, now: datetime) -> int:
    """Make room for one more of ``limit``'s messages from the client, or raise ``limit.error``.

    Call it in the writing transaction that then stores the message and its audit event. Returns how
    many more the client may still send within the window after this one.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :client)"), {"space": _LOCK_SPACE, "client": client_id}
        )
    since = now - limit.window
    sent, oldest = session.execute(
        select(func.count(), func.min(AuditEvent.created_at)).where(
            AuditEvent.client_id == client_id,
            AuditEvent.action == limit.action,
            AuditEvent.created_at > since,
        )
    ).one()
    sent = sent or 0
    if sent >= limit.most:
        raise limit.error(limit.most, (oldest or now) + limit.window, at=now)
    return limit.most - sent - 1
