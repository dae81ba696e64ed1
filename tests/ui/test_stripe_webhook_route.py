"""POST /api/webhooks/stripe on the running app: signature checked, each event booked once."""

from __future__ import annotations

import json

import pytest
import stripe
from sqlalchemy import func, select

from models import Client, Invoice, Payment, PaymentKind, PaymentStatus, PortalUser, ProcessedWebhookEvent
from services import portal
from services.demo import CUSTOMER_EMAIL

SECRET = "whsec_route_test"


@pytest.fixture(autouse=True)
def stripe_settings(demo_portal_env, monkeypatch):
    monkeypatch.setenv("PORTAL_STRIPE_SECRET_KEY", "sk_test_route")
    monkeypatch.setenv("PORTAL_STRIPE_PUBLISHABLE_KEY", "pk_test_route")
    monkeypatch.setenv("PORTAL_STRIPE_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_STRIPE_API_BASE", "http://127.0.0.1:9")  # never called: webhooks need no API


def processing_debit() -> tuple[int, int]:
    """A SEPA debit of the demo customer's oldest unpaid invoice, waiting for Stripe: (payment, invoice)."""
    with portal.current().db.transaction() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        client = session.get_one(Client, user.client_id)
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.kind == "invoice", Invoice.balance_due_minor > 0)
            .order_by(Invoice.due_date)
            .limit(1)
        ).one()
        payment = Payment(
            organization_id=client.organization_id,
            client_id=client.id,
            portal_user_id=user.id,
            kind=PaymentKind.INVOICE,
            status=PaymentStatus.PROCESSING,
            amount_minor=invoice.balance_due_minor,
            currency=client.currency,
            method="bank_account",
            gateway="stripe",
            gateway_payment_id="pi_route_1",
            planned_allocations=[{"invoice_id": invoice.id, "amount_minor": invoice.balance_due_minor}],
            created_at=portal.current().clock(),
        )
        session.add(payment)
        session.flush()
        return payment.id, invoice.id


def event(event_id: str, status: str, event_type: str) -> bytes:
    intent = {
        "id": "pi_route_1",
        "object": "payment_intent",
        "status": status,
        "payment_method": "pm_1",
        "payment_method_types": ["sepa_debit"],
        "last_payment_error": {"message": "The debit was refused."} if status != "succeeded" else None,
    }
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": intent}}
    ).encode()


async def post(user, payload: bytes, secret: str = SECRET):
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret)
    return await user.http_client.post(
        "/api/webhooks/stripe", content=payload, headers={"Stripe-Signature": header}
    )


def state(payment_id: int, invoice_id: int) -> tuple[str, str, int]:
    with portal.current().db.reading() as session:
        payment = session.get_one(Payment, payment_id)
        invoice = session.get_one(Invoice, invoice_id)
        events = session.scalar(select(func.count()).select_from(ProcessedWebhookEvent)) or 0
        return payment.status, invoice.status, events


async def test_the_same_event_ten_times_books_one_payment(user):
    payment_id, invoice_id = processing_debit()
    payload = event("evt_route_1", "succeeded", "payment_intent.succeeded")
    answers = [await post(user, payload) for _ in range(10)]
    assert [answer.status_code for answer in answers] == [200] * 10
    assert [answer.json()["outcome"] for answer in answers] == ["booked"] + ["duplicate"] * 9
    assert state(payment_id, invoice_id) == ("succeeded", "paid", 1)
    with portal.current().db.reading() as session:
        assert (
            session.scalar(select(func.count()).select_from(Payment).where(Payment.gateway == "stripe")) == 1
        )
        assert session.get_one(Payment, payment_id).receipt_number


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no header"],
)
async def test_a_bad_signature_is_refused_with_400_and_changes_nothing(user, tamper):
    payment_id, invoice_id = processing_debit()
    before = state(payment_id, invoice_id)
    payload = event("evt_route_2", "succeeded", "payment_intent.succeeded")
    if tamper == "wrong secret":
        answer = await post(user, payload, secret="whsec_someone_else")
    elif tamper == "changed body":
        header = stripe.WebhookSignature.generate_signature_header(payload.decode(), SECRET)
        forged = payload.replace(b"pi_route_1", b"pi_route_2")
        answer = await user.http_client.post(
            "/api/webhooks/stripe", content=forged, headers={"Stripe-Signature": header}
        )
    else:
        answer = await user.http_client.post("/api/webhooks/stripe", content=payload)
    assert answer.status_code == 400
    assert state(payment_id, invoice_id) == before == ("processing", before[1], 0)


async def test_a_failed_debit_event_fails_the_payment_and_the_invoice_stays_due(user):
    payment_id, invoice_id = processing_debit()
    _, invoice_status, _ = state(payment_id, invoice_id)
    answer = await post(
        user, event("evt_route_3", "requires_payment_method", "payment_intent.payment_failed")
    )
    assert answer.status_code == 200
    assert state(payment_id, invoice_id) == ("failed", invoice_status, 1)
    with portal.current().db.reading() as session:
        assert session.get_one(Payment, payment_id).failure_message == "The debit was refused."
