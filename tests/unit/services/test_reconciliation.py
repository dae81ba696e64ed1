"""Reconciliation: a charge whose answer was lost is found by our payment id and booked exactly once;
an attempt that never reached the gateway keeps its invoices until the gateway confirms it has no charge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from models import AuditEvent, Invoice, OutboxEmail, Payment, ProcessedWebhookEvent, SandboxCharge
from services import online_payments
from services.credit_actions import credit_options
from services.errors import (
    InvalidPaymentDetails,
    PaymentInDoubt,
    PaymentInProgress,
    PaymentNotStarted,
    human_message,
)
from services.events import Events
from services.gateways.base import (
    ChargeQuery,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    MethodInfo,
    MethodKind,
    WebhookEvent,
    WebhookKind,
)
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.live_topics import documents_topic
from services.online_payments import ACTION_TIMEOUT, book_result, pay, plan_pay_all, plan_pay_invoice
from services.reconciliation import (
    IN_DOUBT_GRACE,
    NEVER_CHARGED,
    AskSchedule,
    Reconciler,
    Reconciliation,
    reconcile_payments,
)
from services.webhooks import WebhookOutcome, handle_webhook
from tests.factories import Clock, make_customer, make_sent_invoice
from tests.unit.services.test_online_payments import card

CARD = MethodInfo("pm_1", MethodKind.CARD, "Visa", "4242", 12, 2030)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    gateway = SandboxGateway(clock=clock, records=DatabaseRecords(db, clock=clock))
    return principal, invoice, gateway


def lost_answer(monkeypatch, where="prepare_receipt"):
    """The database fails while the gateway's answer is being booked (after the charge)."""

    def fail(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(online_payments, where, fail)


def pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch) -> PaymentInDoubt:
    """Pay the invoice; the gateway charges it, and the database fails as the answer is booked."""
    with monkeypatch.context() as patched:
        lost_answer(patched)
        with pytest.raises(PaymentInDoubt) as doubt:
            pay_invoice(db, gateway, principal, invoice, clock)
    return doubt.value


def pay_invoice(db, gateway, principal, invoice, clock, request=None):
    plan = plan_pay_invoice(db, principal, invoice.public_id, clock=clock)
    return pay(db, gateway, principal, plan, request or card(), clock=clock)


def payments(db):
    with db.reading() as session:
        return [tuple(row) for row in session.execute(
            select(Payment.status, Payment.gateway_payment_id, Payment.receipt_number).order_by(Payment.id)
        )]  # fmt: skip


def invoice_state(db, invoice):
    with db.reading() as session:
        row = session.execute(
            select(Invoice.status, Invoice.balance_due_minor).where(Invoice.id == invoice.id)
        ).one()
    return tuple(row)


def count(db, model):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_charge_whose_booking_failed_is_found_by_our_id_and_booked_once(db, books, clock, monkeypatch):
    principal, invoice, gateway = books
    doubt = pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch)
    assert "being confirmed; you will not be charged twice" in human_message(doubt)
    assert payments(db) == [("pending", None, None)]  # the gateway took the money; we do not know its id
    assert count(db, SandboxCharge) == 1
    with pytest.raises(PaymentInProgress):  # the invoice cannot be paid a second time meanwhile
        pay_invoice(db, gateway, principal, invoice, clock)

    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert reconcile_payments(db, [gateway], clock=clock).booked == 0  # and never again
    [(status, gateway_payment_id, receipt)] = payments(db)
    assert (status, gateway_payment_id.startswith("sbx_card_4242_"), receipt) == (
        "succeeded",
        True,
        "RCPT-00001",
    )
    assert invoice_state(db, invoice) == ("paid", 0)
    assert count(db, OutboxEmail) == 2  # one receipt to the customer, one notice to the business
    assert count(db, SandboxCharge) == 1  # one charge at the gateway, booked once


def test_an_attempt_that_never_reached_the_gateway_stays_reserved_until_the_gateway_confirms_no_charge(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books

    def crashed(request):  # the process died (or the network failed) before the request left
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(gateway, "charge", crashed)
    with pytest.raises(PaymentInDoubt):
        pay_invoice(db, gateway, principal, invoice, clock)
    monkeypatch.undo()

    clock.advance(seconds=(IN_DOUBT_GRACE - timedelta(seconds=1)).total_seconds())
    assert reconcile_payments(db, [gateway], clock=clock).waiting == 1  # a request may still be on its way
    options = credit_options(db, principal, clock=clock)
    assert [(i.can_take.minor, i.confirming.minor) for i in options.invoices] == [(0, 25000)]
    assert plan_pay_all(db, principal, clock=clock).lines == ()
    with pytest.raises(PaymentInProgress):
        pay_invoice(db, gateway, principal, invoice, clock)

    clock.advance(seconds=2)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    with db.reading() as session:
        assert tuple(session.execute(select(Payment.status, Payment.failure_message)).one()) == (
            "failed",
            NEVER_CHARGED,
        )
    # The attempt is closed at the gateway: a request of it arriving now charges nothing.
    with pytest.raises(InvalidPaymentDetails, match="nothing was charged"):
        gateway.charge(ChargeRequest(payments_public_ids(db)[0], 25000, "USD", "", card=card().card))
    assert invoice_state(db, invoice) == ("sent", 25000)
    assert pay_invoice(db, gateway, principal, invoice, clock).status == "succeeded"  # free to pay again
    assert invoice_state(db, invoice) == ("paid", 0)


def payments_public_ids(db):
    with db.reading() as session:
        return list(session.scalars(select(Payment.public_id).order_by(Payment.id)))


def test_a_fault_before_the_attempt_is_stored_charges_nothing(db, books, clock, monkeypatch):
    principal, invoice, gateway = books

    def database_gone(*args, **kwargs):
        raise OperationalError("BEGIN", {}, Exception("could not connect to server"))

    monkeypatch.setattr(online_payments, "_store_attempt", database_gone)
    with pytest.raises(PaymentNotStarted) as refused:
        pay_invoice(db, gateway, principal, invoice, clock)
    assert human_message(refused.value) == (
        "The payment could not be started, so nothing was charged. Please try again in a moment."
    )
    assert payments(db) == []
    assert count(db, SandboxCharge) == 0


def test_a_declined_card_whose_failure_could_not_be_written_is_closed_as_failed(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books
    with monkeypatch.context() as patched:
        lost_answer(patched, where="_locked_with_parties")  # booking its refusal
        with pytest.raises(PaymentInDoubt):
            pay_invoice(db, gateway, principal, invoice, clock, card("4000000000000002"))
    assert payments(db) == [("pending", None, None)]
    clock.advance(seconds=IN_DOUBT_GRACE.total_seconds())
    reconcile_payments(db, [gateway], clock=clock)
    with db.reading() as session:
        assert tuple(session.execute(select(Payment.status, Payment.failure_message)).one()) == (
            "failed",
            "Your card was declined.",
        )
    assert invoice_state(db, invoice) == ("sent", 25000)


class ChallengeGateway(SandboxGateway):
    """Asks every card for 3-D Secure; remembers which charges were cancelled."""

    name = "challenge"

    def __init__(self, clock):
        super().__init__(clock=clock)
        self.state = ChargeStatus.REQUIRES_ACTION
        self.cancelled: list[str] = []

    def charge(self, request):
        return ChargeResult("pi_3ds", ChargeStatus.REQUIRES_ACTION, CARD, client_secret="pi_3ds_secret")

    def retrieve(self, gateway_payment_id):
        return ChargeResult(gateway_payment_id, self.state, CARD)

    def cancel(self, gateway_payment_id):
        if self.state == ChargeStatus.REQUIRES_ACTION:
            self.cancelled.append(gateway_payment_id)
            self.state = ChargeStatus.FAILED
        return self.retrieve(gateway_payment_id)


def test_an_abandoned_challenge_is_cancelled_at_the_gateway_before_it_is_booked_failed(db, books, clock):
    principal, invoice, _ = books
    gateway = ChallengeGateway(clock)
    assert pay_invoice(db, gateway, principal, invoice, clock).status == "requires_action"
    clock.advance(seconds=ACTION_TIMEOUT.total_seconds() - 1)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 0
    assert gateway.cancelled == []
    clock.advance(seconds=2)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert gateway.cancelled == ["pi_3ds"]  # it can no longer be completed behind our back
    assert payments(db) == [("failed", "pi_3ds", None)]


def test_a_challenge_completed_just_before_it_was_given_up_is_booked_as_paid(db, books, clock):
    principal, invoice, _ = books
    gateway = ChallengeGateway(clock)
    pay_invoice(db, gateway, principal, invoice, clock)
    gateway.state = ChargeStatus.SUCCEEDED  # the customer answered the challenge at the last moment
    clock.advance(seconds=ACTION_TIMEOUT.total_seconds() + 1)
    reconcile_payments(db, [gateway], clock=clock)
    assert payments(db)[0][0] == "succeeded"
    assert invoice_state(db, invoice) == ("paid", 0)


def test_a_success_reported_after_an_attempt_was_booked_failed_is_booked_and_flagged(db, books, clock):
    principal, invoice, gateway = books
    outcome = pay_invoice(db, gateway, principal, invoice, clock, card("4000000000000002"))
    assert outcome.status == "failed"
    late = ChargeResult(
        "sbx_card_4242_late", ChargeStatus.SUCCEEDED, CARD, reference=outcome.payment_public_id
    )
    booked = book_result(db, outcome.payment_public_id, late, gateway_name="sandbox", clock=clock)
    assert (booked.status, booked.receipt_number, booked.failure_message) == ("succeeded", "RCPT-00001", "")
    assert book_result(db, outcome.payment_public_id, late, gateway_name="sandbox", clock=clock) == booked
    assert invoice_state(db, invoice) == ("paid", 0)
    with db.reading() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions.count("payment.succeeded_after_failure") == 1


def webhook(event_id, result):
    return WebhookEvent(event_id, f"payment_intent.{result.status}", WebhookKind.PAYMENT, charge=result)


def test_a_webhook_for_a_charge_we_have_no_gateway_id_for_is_matched_by_our_payment_id(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books
    pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch)
    [public_id] = payments_public_ids(db)
    charge = gateway.find_charge(ChargeQuery(public_id, "", clock()))
    assert charge is not None
    assert charge.reference == public_id
    assert handle_webhook(db, "sandbox", webhook("evt_1", charge), clock=clock) == WebhookOutcome.BOOKED
    assert payments(db)[0][0] == "succeeded"
    assert handle_webhook(db, "sandbox", webhook("evt_1", charge), clock=clock) == WebhookOutcome.DUPLICATE


def test_a_webhook_that_could_not_be_booked_is_not_recorded_and_its_redelivery_books_it(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books
    gateway.charge = lambda request: ChargeResult(  # a bank debit: the answer comes later, by webhook
        "pi_debit", ChargeStatus.PROCESSING, MethodInfo("pm_2", MethodKind.BANK_ACCOUNT, "SEPA", "3000"),
        reference=request.idempotency_key,
    )  # fmt: skip
    pay_invoice(db, gateway, principal, invoice, clock)
    settled = ChargeResult(
        "pi_debit", ChargeStatus.SUCCEEDED, MethodInfo("", MethodKind.BANK_ACCOUNT, "", "")
    )
    with monkeypatch.context() as patched:
        lost_answer(patched)
        with pytest.raises(OperationalError):  # answered with an error: the gateway delivers it again
            handle_webhook(db, "sandbox", webhook("evt_2", settled), clock=clock)
    assert count(db, ProcessedWebhookEvent) == 0
    assert payments(db)[0][0] == "processing"
    assert handle_webhook(db, "sandbox", webhook("evt_2", settled), clock=clock) == WebhookOutcome.BOOKED
    assert payments(db)[0][0] == "succeeded"


def test_a_webhook_about_a_charge_that_is_not_ours_is_not_remembered(db, books, clock):
    foreign = ChargeResult("pi_other", ChargeStatus.SUCCEEDED, CARD, reference="someone-elses")
    assert handle_webhook(db, "sandbox", webhook("evt_3", foreign), clock=clock) == WebhookOutcome.IGNORED
    assert count(db, ProcessedWebhookEvent) == 0


def test_attempts_made_with_the_sandbox_are_reconciled_after_switching_to_another_gateway(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books
    pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch)
    elsewhere = ChallengeGateway(clock)  # the owner switched the portal to another gateway meanwhile
    assert reconcile_payments(db, [elsewhere], clock=clock).unreachable == 1
    assert Reconciler(db, elsewhere, clock=clock).run().booked == 1  # the sandbox's record is at hand
    assert invoice_state(db, invoice) == ("paid", 0)


def test_an_old_processing_debit_is_asked_about_less_often_as_it_ages(db, books, clock):
    principal, invoice, gateway = books
    asked = []
    retrieve = gateway.retrieve

    def counted(payment_id):
        asked.append(payment_id)
        return retrieve(payment_id)

    gateway.retrieve = counted
    gateway.settle_delay = timedelta(days=3)  # a debit that takes days to settle
    bank = ChargeRequest("", 0, "USD", "", bank_account=card_account())
    pay_invoice(db, gateway, principal, invoice, clock, bank)
    schedule = AskSchedule()
    for _ in range(5):  # young: asked every round
        clock.advance(seconds=2)
        reconcile_payments(db, [gateway], clock=clock, schedule=schedule)
    assert len(asked) == 5
    clock.advance(hours=20)
    asked.clear()
    for _ in range(100):  # a day old: asked about every ten minutes at most, not every two seconds
        clock.advance(seconds=2)
        reconcile_payments(db, [gateway], clock=clock, schedule=schedule)
    assert len(asked) == 1


def card_account():
    from services.gateways.base import BankAccountDetails

    return BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", mandate_accepted=True)


class OtherAccount(SandboxGateway):
    """The same gateway under keys of another account: it knows none of the first account's charges."""

    account = "test:another-account"

    def retrieve(self, gateway_payment_id):
        raise InvalidPaymentDetails("payment", f"No such payment_intent: '{gateway_payment_id}'")


def test_another_account_never_closes_an_attempt_as_not_charged(db, books, clock, monkeypatch):
    principal, invoice, gateway = books
    pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch)
    clock.advance(seconds=IN_DOUBT_GRACE.total_seconds() * 10)
    # The owner changed the keys to another account: it has no charge for the attempt, which proves nothing.
    other = OtherAccount(clock=clock)
    assert reconcile_payments(db, [other], clock=clock) == Reconciliation(booked=0, waiting=0, unreachable=1)
    assert payments(db)[0][0] == "pending"
    with pytest.raises(PaymentInProgress):
        pay_invoice(db, other, principal, invoice, clock)
    # Back to the account it was made with: the charge is found and booked.
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert invoice_state(db, invoice) == ("paid", 0)


def test_a_charge_another_account_does_not_know_stays_reserved_without_a_warning_every_round(
    db, books, clock, caplog
):
    principal, invoice, _ = books
    gateway = ChallengeGateway(clock)  # an open 3-D Secure challenge: the gateway's id is known
    pay_invoice(db, gateway, principal, invoice, clock)
    other = OtherAccount(clock=clock)
    other.name = gateway.name
    for _ in range(3):
        assert reconcile_payments(db, [other], clock=clock).unreachable == 1
    assert payments(db) == [("pending", "pi_3ds", None)]
    assert not [record for record in caplog.records if record.levelname == "WARNING"]


def test_a_debit_settled_by_the_reconciler_is_announced_to_the_customers_open_pages(db, books, clock):
    principal, invoice, gateway = books
    events = Events()
    topic = documents_topic(db, principal)
    pay_invoice(
        db, gateway, principal, invoice, clock, ChargeRequest("", 0, "USD", "", bank_account=card_account())
    )
    reconciler = Reconciler(db, gateway, clock=clock, events=events)
    reconciler.run()
    assert events.version(topic) == 0  # still processing: nothing changed
    clock.advance(seconds=gateway.settle_delay.total_seconds() + 1)
    assert reconciler.run().booked == 1
    assert events.version(topic) == 1


def test_a_payment_booked_from_a_webhook_is_announced_to_the_customers_open_pages(
    db, books, clock, monkeypatch
):
    principal, invoice, gateway = books
    events = Events()
    pay_and_lose_the_answer(db, gateway, principal, invoice, clock, monkeypatch)
    [public_id] = payments_public_ids(db)
    charge = gateway.find_charge(ChargeQuery(public_id, "", clock()))
    assert charge is not None
    outcome = handle_webhook(db, "sandbox", webhook("evt_1", charge), clock=clock, events=events)
    assert outcome == WebhookOutcome.BOOKED
    assert events.version(documents_topic(db, principal)) == 1
