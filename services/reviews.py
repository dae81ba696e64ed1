"""Write Review: a customer rates the business from 1 to 5 stars with a message, kept for the business."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import PortalUser, Review
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidRating, NotFound, TextRequired, TextTooLong
from services.events import BUSINESS_INBOX_TOPIC, Events
from services.principal import Principal
from services.rate_limits import REVIEWS, take

MIN_RATING = 1
MAX_RATING = 5
MAX_REVIEW_LENGTH = 2000
REVIEWS_PER_DAY = REVIEWS.most
SUBMITTED = REVIEWS.action

# Every control character but the line break and the tab is dropped from the message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def submit_review(
    db: Database,
    principal: Principal,
    rating: int,
    message: str,
    *,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> str:
    """Keep the signed-in customer's review and return its public id.

    Raises ``InvalidRating`` unless ``rating`` is a whole number from 1 to 5 (no stars is 0),
    ``TextRequired("review")`` for an empty message, ``TextTooLong`` beyond 2,000 characters, and
    ``ReviewLimitReached`` for a client's 6th review within 24 hours; nothing is kept then.
    The business's open inbox shows the review once it is kept.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidRating(rating)
    text = _CONTROL.sub("", message.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise TextRequired("review")
    if len(text) > MAX_REVIEW_LENGTH:
        raise TextTooLong("review", MAX_REVIEW_LENGTH)
    now = clock()
    with db.transaction() as session:
        user = session.scalars(
            select(PortalUser).where(
                PortalUser.id == principal.portal_user_id, PortalUser.client_id == principal.client_id
            )
        ).one_or_none()
        if user is None:
            raise NotFound("client", principal.client_id)
        take(session, REVIEWS, principal.client_id, now=now)
        review = Review(
            client_id=principal.client_id, portal_user_id=user.id, rating=rating, body=text, created_at=now
        )
        session.add(review)
        session.flush()
        record_event(
            session,
            SUBMITTED,
            at=now,
            portal_user_id=user.id,
            client_id=principal.client_id,
            subject=("review", review.id),
            details={"rating": rating},
        )
        public_id = review.public_id
    if events is not None:
        events.publish(BUSINESS_INBOX_TOPIC)
    return public_id
