"""Gateway webhooks: each event id is handled once; what it reports is booked on our records.

Booking is idempotent by itself (a payment row is locked and never booked twice), so the event id is
recorded after the booking: a crash in between only means the next delivery is handled again, to no
effect, whereas recording first could lose an event for good. An event that could not be booked (the
database failing: answered with an error, so the gateway delivers it again) or that matched none of our
records is not recorded at all.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Client, Payment, ProcessedWebhookEvent, Refund
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.events import Events, client_documents_topic
from services.gateways.base import WebhookEvent, WebhookKind
from services.live_topics import charge_topics
from services.online_payments import book_gateway_update
from services.refund_approval import settle_gateway_refund


class WebhookOutcome(StrEnum):
    BOOKED = "booked"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # an event about nothing of ours, or of a kind we do not book


def handle_webhook(
    db: Database,
    gateway_name: str,
    event: WebhookEvent,
    *,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> WebhookOutcome:
    with db.reading() as session:
        seen = session.scalar(
            select(ProcessedWebhookEvent.id).where(
                ProcessedWebhookEvent.gateway == gateway_name,
                ProcessedWebhookEvent.event_id == event.event_id,
            )
        )
    if seen is not None:
        return WebhookOutcome.DUPLICATE
    booked = False
    if event.kind == WebhookKind.PAYMENT and event.charge is not None:
        booked = book_gateway_update(db, gateway_name, event.charge, clock=clock)
        if booked and events is not None:  # the customer's open pages show the payment's new state
            charge = event.charge
            for topic in charge_topics(db, gateway_name, charge.gateway_payment_id, charge.reference):
                events.publish(topic)
    elif event.kind == WebhookKind.REFUND and event.refund is not None:
        clients = _book_refund(db, gateway_name, event, clock)
        booked = clients is not None
        if clients and events is not None:  # the refund's new state, or the money given back on failure
            for public_id in sorted(clients):
                events.publish(client_documents_topic(public_id))
    if not booked and event.kind != WebhookKind.OTHER:
        return WebhookOutcome.IGNORED  # about nothing of ours: nothing to remember
    try:
        with db.transaction() as session:
            session.add(
                ProcessedWebhookEvent(
                    gateway=gateway_name,
                    event_id=event.event_id,
                    event_type=event.event_type[:100],
                    received_at=clock(),
                )
            )
    except IntegrityError:  # delivered twice at the same moment: the other delivery recorded it
        return WebhookOutcome.DUPLICATE
    return WebhookOutcome.BOOKED if booked else WebhookOutcome.IGNORED


def _book_refund(db: Database, gateway_name: str, event: WebhookEvent, clock: Clock) -> set[str] | None:
    """A refund we asked for gets its final state; one made at the gateway itself is flagged.

    Returns the public ids of the clients whose refunds changed (none for a flag), or None when the event
    is about nothing of ours."""
    refund = event.refund
    assert refund is not None  # noqa: S101 - handle_webhook routes only refund events here
    with db.transaction() as session:
        ours = session.scalars(
            select(Refund).where(Refund.gateway_refund_id == refund.gateway_refund_id).with_for_update()
        ).all()
        for row in ours:
            # Never a second row for a refund we made: settle ours (a failure gives the money back).
            settle_gateway_refund(session, row, refund.succeeded, at=clock(), reason=refund.failure_message)
        if ours:
            return set(
                session.scalars(
                    select(Client.public_id).where(Client.id.in_({row.client_id for row in ours}))
                )
            )
        payment = session.scalar(
            select(Payment).where(
                Payment.gateway == gateway_name, Payment.gateway_payment_id == event.refunded_payment_id
            )
        )
        if payment is None:
            return None
        record_event(
            session,
            "payment.refunded_at_gateway",
            at=clock(),
            client_id=payment.client_id,
            subject=("payment", payment.id),
            details={
                "gateway_refund_id": refund.gateway_refund_id,
                "amount_minor": event.refund_amount_minor,
                "succeeded": refund.succeeded,
            },
        )
        return set()  # flagged for the business; nothing the customer's pages show changed
