"""Approving refund requests: online money goes back through the gateway, once; failures stay visible."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import (
    Client,
    InvoiceKind,
    Payment,
    PaymentKind,
    Refund,
    RefundRequestStatus,
    RefundSource,
    RefundStatus,
)
from services.balances import client_balances, ledger_balance
from services.credits import request_refund
from services.database import Database
from services.errors import GatewayUnavailable, InsufficientCredit, InvalidPaymentDetails, NotFound
from services.events import Events
from services.gateways.base import CardDetails, ChargeRequest, RefundResult, WebhookEvent, WebhookKind
from services.gateways.sandbox import SandboxGateway
from services.invoices import create_invoice, send_invoice
from services.live_topics import documents_topic
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.payments import record_payment
from services.principal import Principal
from services.refund_approval import (
    approve_refund_request,
    decline_refund_request,
    list_refund_requests,
    refund_credit,
    retry_gateway_refund,
)
from services.totals import LineInput
from services.webhooks import handle_webhook
from tests.factories import NOW, TODAY, fixed_clock, make_customer, make_organization

RETAINER, CREDIT = RefundSource.RETAINER, RefundSource.CREDIT


@dataclass
class RecordingGateway(SandboxGateway):
    """The sandbox, remembering each refund asked for; ``answer`` replaces its reply when set."""

    calls: list[tuple[str, int, str]] = field(default_factory=list)
    answer: RefundResult | Exception | None = None

    def __post_init__(self) -> None:
        SandboxGateway.__init__(self, clock=fixed_clock)

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        self.calls.append((gateway_payment_id, amount_minor, idempotency_key))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer or super().refund(gateway_payment_id, amount_minor, idempotency_key)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def customer(db: Database) -> Principal:
    return make_customer(db)


@pytest.fixture
def gateway() -> RecordingGateway:
    return RecordingGateway()


def card_retainer(db: Database, gateway: SandboxGateway, customer: Principal, amount_minor: int) -> str:
    """A retainer invoice paid online with the sandbox's test card; returns the gateway's payment id."""
    ref = create_invoice(
        db,
        client_id=customer.client_id,
        kind=InvoiceKind.RETAINER,
        lines=[LineInput("Retainer", Decimal(1), amount_minor)],
        issue_date=TODAY,
        due_date=TODAY,
        clock=fixed_clock,
    )
    send_invoice(db, ref.id, clock=fixed_clock)
    card = CardDetails("4242424242424242", 12, 2030, "123", "Ann")
    plan = plan_pay_invoice(db, customer, ref.public_id, clock=fixed_clock)
    outcome = pay(db, gateway, customer, plan, ChargeRequest("", 0, "USD", "", card=card), clock=fixed_clock)
    assert outcome.status == "succeeded"
    with db.reading() as session:
        payment_id = session.scalar(
            select(Payment.gateway_payment_id).where(Payment.public_id == outcome.payment_public_id)
        )
    assert payment_id
    return payment_id


def cash_retainer(db: Database, customer: Principal, amount_minor: int) -> None:
    ref = create_invoice(
        db,
        client_id=customer.client_id,
        kind=InvoiceKind.RETAINER,
        lines=[LineInput("Retainer", Decimal(1), amount_minor)],
        issue_date=TODAY,
        due_date=TODAY,
        clock=fixed_clock,
    )
    send_invoice(db, ref.id, clock=fixed_clock)
    record_payment(
        db,
        client_id=customer.client_id,
        amount=usd(amount_minor),
        method="cash",
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=ref.id,
        received_at=NOW,
        clock=fixed_clock,
    )


def ask(db: Database, customer: Principal, amount_minor: int, source: RefundSource = RETAINER) -> str:
    return request_refund(
        db,
        client_id=customer.client_id,
        portal_user_id=customer.portal_user_id,
        source=source,
        amount=usd(amount_minor),
        reason="Project cancelled",
        clock=fixed_clock,
    ).public_id


def refund_rows(db: Database) -> list[tuple[str, str, int, str | None]]:
    with db.reading() as session:
        return [
            (r.method, r.status, r.amount_minor, r.gateway_refund_id)
            for r in session.scalars(select(Refund).order_by(Refund.id))
        ]


def available_retainer(db: Database, customer: Principal) -> Money:
    with db.reading() as session:
        balances = client_balances(session, customer.client_id, "USD")
        assert balances.net == ledger_balance(session, customer.client_id, "USD")
        return balances.available_retainer


def test_an_online_payment_is_refunded_through_the_gateway(db, customer, gateway):
    charge_id = card_retainer(db, gateway, customer, 40000)
    request = ask(db, customer, 25000)
    outcome = approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    assert outcome.through_gateway == usd(25000)
    assert (outcome.by_hand, outcome.failed, outcome.pending) == (usd(0), usd(0), usd(0))
    [(paid_back, amount, key)] = gateway.calls
    assert (paid_back, amount) == (charge_id, 25000)
    rows = refund_rows(db)
    assert [(m, s, a) for m, s, a, _ in rows] == [("gateway", "succeeded", 25000)]
    assert rows[0][3] == gateway.refund(charge_id, 25000, key).gateway_refund_id
    assert available_retainer(db, customer) == usd(15000)


def test_offline_money_is_recorded_as_paid_back_by_hand(db, customer, gateway):
    cash_retainer(db, customer, 30000)
    request = ask(db, customer, 30000)
    outcome = approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    assert outcome.by_hand == usd(30000)
    assert gateway.calls == []
    assert refund_rows(db) == [("manual", "succeeded", 30000, None)]
    assert available_retainer(db, customer) == usd(0)


def test_a_request_drawing_on_both_splits_oldest_first(db, customer, gateway):
    cash_retainer(db, customer, 10000)
    card_retainer(db, gateway, customer, 20000)
    request = ask(db, customer, 25000)
    approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    assert [(m, s, a) for m, s, a, _ in refund_rows(db)] == [
        ("manual", "succeeded", 10000),
        ("gateway", "succeeded", 15000),
    ]
    [view] = list_refund_requests(db, customer.organization_id)
    assert view.status == RefundRequestStatus.APPROVED
    assert [line.method for line in view.refunds] == ["manual", "gateway"]


def test_a_gateway_refusal_leaves_the_refund_failed_and_the_money_the_clients(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    request = ask(db, customer, 20000)
    gateway.answer = InvalidPaymentDetails("gateway", "The payment service could not do this.")
    outcome = approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    assert outcome.failed == usd(20000)
    assert [(m, s) for m, s, _a, _g in refund_rows(db)] == [("gateway", "failed")]
    assert available_retainer(db, customer) == usd(20000)
    [view] = list_refund_requests(db, customer.organization_id)
    assert view.failed == usd(20000)


def test_no_clear_answer_leaves_it_pending_and_asking_again_uses_the_same_key(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    request = ask(db, customer, 20000)
    gateway.answer = GatewayUnavailable("refund")
    outcome = approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    assert outcome.pending == usd(20000)
    assert available_retainer(db, customer) == usd(0)  # it may have gone out: not spendable meanwhile
    [line] = list_refund_requests(db, customer.organization_id)[0].refunds
    gateway.answer = None
    assert (
        retry_gateway_refund(db, gateway, customer.organization_id, line.public_id, clock=fixed_clock)
        == "succeeded"
    )
    assert gateway.calls[0][2] == gateway.calls[1][2] == line.public_id
    assert retry_gateway_refund(db, gateway, customer.organization_id, line.public_id) == "succeeded"
    assert len(gateway.calls) == 2  # a settled refund is not sent again


def test_a_webhook_for_our_refund_adds_no_second_refund(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    request = ask(db, customer, 20000)
    approve_refund_request(
        db, gateway, customer.organization_id, request, staff_user_id=None, clock=fixed_clock
    )
    [(_m, _s, _a, refund_id)] = refund_rows(db)
    assert refund_id
    event = WebhookEvent("evt_1", "charge.refunded", WebhookKind.REFUND, refund=RefundResult(refund_id, True))
    handle_webhook(db, "sandbox", event, clock=fixed_clock)
    assert len(refund_rows(db)) == 1
    assert available_retainer(db, customer) == usd(0)


def test_a_webhook_saying_our_refund_failed_gives_the_money_back(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    approve_refund_request(
        db, gateway, customer.organization_id, ask(db, customer, 20000), staff_user_id=None, clock=fixed_clock
    )
    [(_m, _s, _a, refund_id)] = refund_rows(db)
    assert refund_id
    answer = RefundResult(refund_id, False, failure_message="The card was closed.")
    failed = WebhookEvent("evt_2", "charge.refund.updated", WebhookKind.REFUND, refund=answer)
    handle_webhook(db, "sandbox", failed, clock=fixed_clock)
    handle_webhook(
        db, "sandbox", WebhookEvent("evt_3", "x", WebhookKind.REFUND, refund=RefundResult(refund_id, False))
    )
    assert [s for _m, s, _a, _g in refund_rows(db)] == ["failed"]
    assert available_retainer(db, customer) == usd(20000)
    [line] = list_refund_requests(db, customer.organization_id)[0].refunds
    assert line.failure_reason == "The card was closed."  # the owner sees why


def test_a_refund_webhook_is_announced_to_the_customers_open_pages(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    approve_refund_request(
        db, gateway, customer.organization_id, ask(db, customer, 20000), staff_user_id=None, clock=fixed_clock
    )
    [(_m, _s, _a, refund_id)] = refund_rows(db)
    assert refund_id
    events = Events()
    topic = documents_topic(db, customer)
    answer = RefundResult(refund_id, False, failure_message="The card was closed.")

    handle_webhook(
        db, "sandbox", WebhookEvent("evt_2", "x", WebhookKind.REFUND, refund=answer), events=events
    )
    assert events.version(topic) == 1  # the money is back: Home and Payments Made show it at once
    nobodys = WebhookEvent("evt_9", "x", WebhookKind.REFUND, refund=RefundResult("re_x", True))
    handle_webhook(db, "sandbox", nobodys, events=events)
    assert events.version(topic) == 1  # a refund of nobody's: nothing to announce


def test_declining_makes_the_amount_available_again(db, customer, gateway):
    cash_retainer(db, customer, 30000)
    request = ask(db, customer, 30000)
    with db.reading() as session:
        assert client_balances(session, customer.client_id, "USD").reserved_retainer == usd(30000)
    decline_refund_request(
        db, customer.organization_id, request, staff_user_id=None, note="Use it on May's invoice"
    )
    [view] = list_refund_requests(db, customer.organization_id)
    assert (view.status, view.decision_note) == ("declined", "Use it on May's invoice")
    with db.reading() as session:
        assert client_balances(session, customer.client_id, "USD").reserved_retainer == usd(0)
    assert refund_rows(db) == []


def test_another_business_cannot_decide_the_request(db, customer, gateway):
    cash_retainer(db, customer, 30000)
    request = ask(db, customer, 30000)
    stranger = make_organization(db, "Other Studio")
    with pytest.raises(NotFound):
        approve_refund_request(db, gateway, stranger, request, staff_user_id=None)
    assert list_refund_requests(db, stranger) == []
    assert refund_rows(db) == []


def test_refunding_more_credit_than_available_is_refused(db, customer):
    cash_retainer(db, customer, 30000)
    with db.reading() as session:
        client_public_id = session.get_one(Client, customer.client_id).public_id
    with pytest.raises(InsufficientCredit):
        refund_credit(
            db,
            customer.organization_id,
            client_public_id=client_public_id,
            source=RETAINER,
            amount=usd(30001),
        )
    assert refund_rows(db) == []
    refund_credit(
        db, customer.organization_id, client_public_id=client_public_id, source=RETAINER, amount=usd(30000)
    )
    assert refund_rows(db) == [("manual", "succeeded", 30000, None)]


def test_the_statement_still_balances_after_a_failed_refund(db, customer, gateway):
    card_retainer(db, gateway, customer, 20000)
    gateway.answer = RefundResult("re_x", succeeded=False, failure_message="card closed")
    approve_refund_request(db, gateway, customer.organization_id, ask(db, customer, 5000), staff_user_id=None)
    assert refund_rows(db)[0][1] == RefundStatus.FAILED
    assert available_retainer(db, customer) == usd(20000)
