"""Write Review: a rating from 1 to 5 stars and a message, kept with the customer and the time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Review
from services.errors import InvalidRating, ReviewLimitReached, TextRequired, TextTooLong, human_message
from services.reviews import REVIEWS_PER_DAY, submit_review
from tests.factories import NOW, Clock, make_customer
from tests.snapshots import snapshot


@pytest.fixture
def ann(db):
    return make_customer(db)


def reviews(db):
    with db.reading() as session:
        return session.scalars(select(Review).order_by(Review.id)).all()


def test_a_review_is_kept_with_its_rating_customer_and_time(db, ann):
    public_id = submit_review(db, ann, 5, "  Quick invoices, friendly people.\r\n ", clock=Clock())
    [review] = reviews(db)
    assert review.public_id == public_id
    assert (review.rating, review.body) == (5, "Quick invoices, friendly people.")
    assert (review.client_id, review.portal_user_id, review.created_at) == (
        ann.client_id,
        ann.portal_user_id,
        NOW,
    )
    with db.reading() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.submitted")).all()
    assert event.details == {"rating": 5}


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_every_star_count_from_one_to_five_is_accepted(db, ann, rating):
    submit_review(db, ann, rating, "Fine.", clock=Clock())
    assert [review.rating for review in reviews(db)] == [rating]


@pytest.mark.parametrize("rating", [0, -1, 6, True, 3.5, "5", None])
def test_a_zero_star_or_other_rating_is_refused_and_nothing_changes(db, ann, rating):
    before = snapshot(db)
    with pytest.raises(InvalidRating) as refused:
        submit_review(db, ann, rating, "Great service", clock=Clock())
    assert human_message(refused.value) == "Please choose a rating from 1 to 5 stars."
    assert snapshot(db) == before


@pytest.mark.parametrize("message", ["", "   \n "])
def test_an_empty_review_message_is_refused(db, ann, message):
    before = snapshot(db)
    with pytest.raises(TextRequired) as refused:
        submit_review(db, ann, 4, message, clock=Clock())
    assert human_message(refused.value) == "Please write a review."
    assert snapshot(db) == before


def test_an_over_long_review_is_refused(db, ann):
    with pytest.raises(TextTooLong) as refused:
        submit_review(db, ann, 4, "x" * 2001, clock=Clock())
    assert human_message(refused.value) == "The review can be at most 2,000 characters long."
    assert reviews(db) == []
    submit_review(db, ann, 4, "x" * 2000, clock=Clock())


def test_a_client_writes_at_most_five_reviews_a_day(db, ann):
    clock = Clock()
    for _ in range(REVIEWS_PER_DAY):
        submit_review(db, ann, 4, "Good.", clock=clock)
        clock.advance(hours=1)
    before = snapshot(db)
    with pytest.raises(ReviewLimitReached) as refused:
        submit_review(db, ann, 4, "Good.", clock=clock)
    assert refused.value.until == NOW + timedelta(days=1)
    assert "5 reviews a day" in human_message(refused.value)
    assert snapshot(db) == before
    clock.now = NOW + timedelta(days=1, seconds=1)
    submit_review(db, ann, 4, "Good.", clock=clock)
