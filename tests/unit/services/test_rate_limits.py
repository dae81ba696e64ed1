"""Per-client limits on what a customer sends the business hold under parallel requests, on SQLite and on
PostgreSQL: threads released together at the last free places get exactly those places, and the refusal
says when to try again. Without the count and the write being one step, several threads each saw room
for one more and all got through."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Comment, Invoice, Message, RefundRequest, RefundSource, Review
from services.comments import add_comment
from services.contact_business import send_message
from services.credit_actions import ask_for_refund
from services.database import Database
from services.errors import LimitReached, human_message
from services.forwarding import forward_invoice
from services.money import Money
from services.principal import Principal
from services.rate_limits import COMMENTS, FORWARDS, MESSAGES, REFUND_REQUESTS, REVIEWS, Limit
from services.reviews import submit_review
from tests.factories import TODAY, Clock, make_customer, make_sent_invoice
from tests.unit.services.test_credits import credit_note

PARALLEL = 8  # threads released at once
FREE = 2  # places left in the window when they are


@dataclass(frozen=True)
class Kind:
    limit: Limit
    send: Callable[[Database, Principal, str, Clock], object]  # one message; the invoice for those on one
    stored: Callable[[Database, int], int]  # how many the client has stored


def count(db: Database, model: type, client_id: int) -> int:
    with db.reading() as session:
        column = model.client_id  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).where(column == client_id)) or 0


def comments_of(db: Database, client_id: int) -> int:
    with db.reading() as session:
        query = select(func.count()).select_from(Comment).join(Invoice, Invoice.id == Comment.invoice_id)
        return (
            session.scalar(query.where(Invoice.client_id == client_id, Comment.portal_user_id.is_not(None)))
            or 0
        )


def forwards_of(db: Database, client_id: int) -> int:
    with db.reading() as session:
        query = select(func.count()).where(
            AuditEvent.action == FORWARDS.action, AuditEvent.client_id == client_id
        )
        return session.scalar(query) or 0


KINDS = {
    "send-email": Kind(
        MESSAGES,
        lambda db, who, _invoice, clock: send_message(db, who, "A question", "Is it paid?", clock=clock),
        lambda db, client_id: count(db, Message, client_id),
    ),
    "review": Kind(
        REVIEWS,
        lambda db, who, _invoice, clock: submit_review(db, who, 5, "Great service.", clock=clock),
        lambda db, client_id: count(db, Review, client_id),
    ),
    "comment": Kind(
        COMMENTS,
        lambda db, who, invoice, clock: add_comment(db, who, invoice, "Is this paid?", clock=clock),
        comments_of,
    ),
    "forward": Kind(
        FORWARDS,
        lambda db, who, invoice, clock: forward_invoice(
            db, who, invoice, recipients=["books@accountant.example"], today=TODAY, clock=clock
        ),
        forwards_of,
    ),
    "refund-request": Kind(
        REFUND_REQUESTS,
        lambda db, who, _invoice, clock: ask_for_refund(
            db, who, RefundSource.CREDIT, Money(100, "USD"), "Overpaid", clock=clock
        ),
        lambda db, client_id: count(db, RefundRequest, client_id),
    ),
}


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
def test_parallel_requests_never_pass_the_limit_and_the_refusal_says_when(db: Database, kind: Kind) -> None:
    clock = Clock()
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 10000).public_id
    credit_note(db, principal.client_id, 100_000)  # for refund requests: far more than they ask
    for _ in range(kind.limit.most - FREE):
        kind.send(db, principal, invoice, clock)
    start = threading.Barrier(PARALLEL)

    def one() -> str:
        start.wait()
        try:
            kind.send(db, principal, invoice, clock)
        except LimitReached as refused:
            return human_message(refused)
        return "sent"

    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda _: one(), range(PARALLEL)))

    assert answers.count("sent") == FREE
    assert kind.stored(db, principal.client_id) == kind.limit.most
    refusals = {answer for answer in answers if answer != "sent"}
    hours = int(kind.limit.window / timedelta(hours=1))
    wait = "in 60 minutes" if hours == 1 else f"in {hours} hours"
    assert len(refusals) == 1
    assert refusals.pop().endswith(f"Please try again {wait}.")


@pytest.mark.parametrize("kind", KINDS.values(), ids=KINDS.keys())
def test_the_window_moves_on_and_other_clients_are_not_held_back(db: Database, kind: Kind) -> None:
    clock = Clock()
    principal = make_customer(db)
    other = make_customer(db, principal.organization_id, name="Other Ltd", email="bo@other.example")
    invoices = {who: make_sent_invoice(db, who.client_id, 10000).public_id for who in (principal, other)}
    for who in (principal, other):
        credit_note(db, who.client_id, 100_000)
    for _ in range(kind.limit.most):
        kind.send(db, principal, invoices[principal], clock)
    with pytest.raises(kind.limit.error) as refused:
        kind.send(db, principal, invoices[principal], clock)
    clock.advance(minutes=30)
    assert "Please try again in" in human_message(refused.value, now=clock())
    kind.send(db, other, invoices[other], clock)  # another client has their own allowance
    clock.advance(seconds=kind.limit.window.total_seconds())
    kind.send(db, principal, invoices[principal], clock)  # a window later there is room again
