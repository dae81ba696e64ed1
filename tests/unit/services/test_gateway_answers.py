"""Answers that arrive later: 3-D Secure challenges, webhooks delivered many times, abandoned attempts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Invoice, OutboxEmail, Payment, ProcessedWebhookEvent
from services.errors import GatewayUnavailable, PaymentInDoubt, PaymentInProgress, human_message
from services.gateways.base import (
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    MethodInfo,
    MethodKind,
    RefundResult,
    WebhookEvent,
    WebhookKind,
)
from services.gateways.sandbox import SandboxGateway
from services.online_payments import ACTION_TIMEOUT, complete_action, pay, plan_pay_invoice
from services.reconciliation import reconcile_payments
from services.webhooks import WebhookOutcome, handle_webhook
from tests.factories import Clock, make_customer, make_sent_invoice

CARD = MethodInfo("pm_1", MethodKind.CARD, "Visa", "3184", 12, 2030)


class ScriptedGateway(SandboxGateway):
    """Answers every charge with ``first`` and every later look-up with ``later``, counting charges."""

    name = "scripted"

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock=clock)
        self.first = ChargeResult("pi_1", ChargeStatus.REQUIRES_ACTION, CARD, client_secret="pi_1_secret")
        self.later = ChargeResult("pi_1", ChargeStatus.SUCCEEDED, CARD)
        self.charges = 0

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.charges += 1
        return self.first

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        return self.later


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    return principal, invoice, ScriptedGateway(clock)


def charge(db, gateway, principal, invoice, clock):
    plan = plan_pay_invoice(db, principal, invoice.public_id, clock=clock)
    return pay(
        db, gateway, principal, plan, ChargeRequest("", 0, "", "", payment_method_id="pm_1"), clock=clock
    )


def invoice_state(db):
    with db.reading() as session:
        return tuple(session.execute(select(Invoice.status, Invoice.balance_due_minor)).one())


def test_a_card_that_asks_for_3d_secure_waits_for_the_browser_then_is_booked(db, books, clock):
    principal, invoice, gateway = books
    outcome = charge(db, gateway, principal, invoice, clock)
    assert (outcome.status, outcome.client_secret) == ("requires_action", "pi_1_secret")
    assert invoice_state(db) == ("sent", 25000)  # nothing is paid before the bank says so
    with pytest.raises(PaymentInProgress):  # nor can it be paid twice meanwhile
        charge(db, gateway, principal, invoice, clock)
    done = complete_action(db, gateway, principal, outcome.payment_public_id, clock=clock)
    assert done.status == "succeeded"
    assert done.receipt_number
    assert invoice_state(db) == ("paid", 0)
    assert gateway.charges == 1


def test_a_challenge_the_customer_fails_charges_nothing_and_frees_the_invoice(db, books, clock):
    principal, invoice, gateway = books
    outcome = charge(db, gateway, principal, invoice, clock)
    gateway.later = gateway.first  # still requires action: the customer closed the challenge
    done = complete_action(db, gateway, principal, outcome.payment_public_id, clock=clock)
    assert done.status == "failed"
    assert "verification was not completed" in done.failure_message
    assert invoice_state(db) == ("sent", 25000)
    gateway.first = ChargeResult("pi_2", ChargeStatus.SUCCEEDED, CARD)
    assert charge(db, gateway, principal, invoice, clock).status == "succeeded"


def test_an_abandoned_challenge_is_given_up_after_the_timeout(db, books, clock):
    principal, invoice, gateway = books
    charge(db, gateway, principal, invoice, clock)
    gateway.later = gateway.first
    assert reconcile_payments(db, [gateway], clock=clock).booked == 0  # the customer may still answer
    clock.advance(seconds=ACTION_TIMEOUT.total_seconds() + 1)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    with db.reading() as session:
        assert session.scalar(select(Payment.status)) == "failed"
    assert invoice_state(db) == ("sent", 25000)


def test_another_clients_payment_cannot_be_completed(db, books, clock):
    principal, invoice, gateway = books
    outcome = charge(db, gateway, principal, invoice, clock)
    stranger = replace(principal, client_id=principal.client_id + 1000)
    with pytest.raises(Exception, match="payment"):
        complete_action(db, gateway, stranger, outcome.payment_public_id, clock=clock)
    assert invoice_state(db) == ("sent", 25000)


def processing_debit(db, gateway, principal, invoice, clock):
    gateway.first = ChargeResult("pi_9", ChargeStatus.PROCESSING, MethodInfo("pm_9", MethodKind.BANK_ACCOUNT,
                                 "SEPA Direct Debit", "3000"))  # fmt: skip
    return charge(db, gateway, principal, invoice, clock)


def event(event_id, status, gateway_payment_id="pi_9"):
    method = MethodInfo("pm_9", MethodKind.BANK_ACCOUNT, "SEPA Direct Debit", "3000")
    result = ChargeResult(gateway_payment_id, status, method, failure_message="The debit was refused.")
    return WebhookEvent(event_id, f"payment_intent.{status}", WebhookKind.PAYMENT, charge=result)


def test_the_same_webhook_ten_times_books_one_payment(db, books, clock):
    principal, invoice, gateway = books
    processing_debit(db, gateway, principal, invoice, clock)
    outcomes = [handle_webhook(db, "scripted", event("evt_1", "succeeded"), clock=clock) for _ in range(10)]
    assert outcomes == [WebhookOutcome.BOOKED] + [WebhookOutcome.DUPLICATE] * 9
    # Another event about the same charge (Stripe sends several) books nothing more either.
    assert handle_webhook(db, "scripted", event("evt_2", "succeeded"), clock=clock) == WebhookOutcome.BOOKED
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 1
        assert session.scalar(select(Payment.status)) == "succeeded"
        assert session.scalar(select(func.count()).select_from(ProcessedWebhookEvent)) == 2
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 2  # one receipt, one notice
    assert invoice_state(db) == ("paid", 0)


def test_a_failed_debit_webhook_leaves_the_invoice_due(db, books, clock):
    principal, invoice, gateway = books
    processing_debit(db, gateway, principal, invoice, clock)
    assert handle_webhook(db, "scripted", event("evt_3", "failed"), clock=clock) == WebhookOutcome.BOOKED
    with db.reading() as session:
        assert tuple(session.execute(select(Payment.status, Payment.failure_message)).one()) == (
            "failed",
            "The debit was refused.",
        )
    assert invoice_state(db) == ("sent", 25000)


def test_a_processing_webhook_or_one_about_an_unknown_charge_books_nothing(db, books, clock):
    principal, invoice, gateway = books
    processing_debit(db, gateway, principal, invoice, clock)
    assert handle_webhook(db, "scripted", event("evt_4", "processing"), clock=clock) == WebhookOutcome.BOOKED
    unknown = event("evt_5", "succeeded", gateway_payment_id="pi_unknown")
    assert handle_webhook(db, "scripted", unknown, clock=clock) == WebhookOutcome.IGNORED
    assert invoice_state(db) == ("sent", 25000)


def test_a_refund_made_at_the_gateway_is_flagged_for_the_business(db, books, clock):
    principal, invoice, gateway = books
    gateway.first = ChargeResult("pi_9", ChargeStatus.SUCCEEDED, CARD)
    charge(db, gateway, principal, invoice, clock)
    refund = WebhookEvent("evt_6", "charge.refunded", WebhookKind.REFUND, refund=RefundResult("re_1", True),
                          refunded_payment_id="pi_9", refund_amount_minor=5000)  # fmt: skip
    assert handle_webhook(db, "scripted", refund, clock=clock) == WebhookOutcome.BOOKED
    with db.reading() as session:
        flagged = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "payment.refunded_at_gateway")
        ).one()
    assert flagged.details["amount_minor"] == 5000
    assert flagged.client_id == principal.client_id


def test_an_unanswered_attempt_blocks_paying_again_until_its_answer_is_booked_however_long(db, books, clock):
    principal, invoice, gateway = books
    charge(db, gateway, principal, invoice, clock)
    gateway.later = gateway.first  # the challenge is never answered
    clock.advance(seconds=(10 * ACTION_TIMEOUT).total_seconds())  # no time-out frees money in doubt
    gateway.first = ChargeResult("pi_3", ChargeStatus.SUCCEEDED, CARD)
    with pytest.raises(PaymentInProgress):
        charge(db, gateway, principal, invoice, clock)
    reconcile_payments(db, [gateway], clock=clock)  # the challenge was never answered: cancelled
    assert charge(db, gateway, principal, invoice, clock).status == "succeeded"


def test_no_clear_answer_keeps_the_attempt_open_and_the_gateway_settles_it(db, books, clock):
    principal, invoice, gateway = books

    def unreachable(request):
        raise GatewayUnavailable("confirm", "pi_7")

    gateway.charge = unreachable
    with pytest.raises(PaymentInDoubt) as unknown:
        charge(db, gateway, principal, invoice, clock)
    assert "you will not be charged twice" in human_message(unknown.value)
    with db.reading() as session:
        assert tuple(session.execute(select(Payment.status, Payment.gateway_payment_id)).one()) == (
            "pending",
            "pi_7",
        )
    with pytest.raises(PaymentInProgress):  # the money may have moved: the invoice stays reserved
        plan_pay_invoice(db, principal, invoice.public_id, clock=clock)
    gateway.later = ChargeResult("pi_7", ChargeStatus.SUCCEEDED, CARD)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert invoice_state(db) == ("paid", 0)
