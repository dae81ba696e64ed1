"""Back office > Refund Requests: approve (online money back through the gateway) or decline."""

from __future__ import annotations

import dataclasses

import pytest
from nicegui.testing import User
from sqlalchemy import select

from models import Client, Invoice, InvoiceKind, PortalUser, Refund, RefundSource
from services import portal
from services.credit_actions import ask_for_refund
from services.demo import CUSTOMER_EMAIL
from services.errors import GatewayUnavailable, InvalidPaymentDetails
from services.events import client_documents_topic
from services.gateways.base import CardDetails, ChargeRequest, RefundResult
from services.gateways.sandbox import SandboxGateway
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.principal import Principal
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import balances_of


class RecordingSandbox(SandboxGateway):
    """The sandbox gateway, remembering the refunds it was asked for; ``refuse`` makes it say no."""

    def __init__(self) -> None:
        super().__init__()
        self.refunds: list[tuple[str, int]] = []
        self.refuse = False
        self.silent = False  # no clear answer: the refund stays pending

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        self.refunds.append((gateway_payment_id, amount_minor))
        if self.refuse:
            raise InvalidPaymentDetails("gateway", "The payment service could not do this.")
        if self.silent:
            raise GatewayUnavailable("refund")
        return super().refund(gateway_payment_id, amount_minor, idempotency_key)


@pytest.fixture
def gateway(owner: User, monkeypatch: pytest.MonkeyPatch) -> RecordingSandbox:
    """The running portal's gateway, replaced by a recording sandbox."""
    recording = RecordingSandbox()
    monkeypatch.setattr(portal, "_current", dataclasses.replace(portal.current(), gateway=recording))
    return recording


def customer() -> Principal:
    with portal.current().db.reading() as session:
        user, organization_id = session.execute(
            select(PortalUser, Client.organization_id)
            .join(Client, Client.id == PortalUser.client_id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        return Principal(user.id, user.client_id, organization_id, user.name, user.email, 0)


def pay_q1_retainer_by_card(gateway: SandboxGateway) -> None:
    """The customer pays the demo's unpaid retainer invoice ($500) online with the test card."""
    principal = customer()
    db = portal.current().db
    with db.reading() as session:
        retainer = session.scalars(
            select(Invoice.public_id).where(
                Invoice.client_id == principal.client_id,
                Invoice.kind == InvoiceKind.RETAINER,
                Invoice.balance_due_minor > 0,
            )
        ).one()
    plan = plan_pay_invoice(db, principal, retainer)
    card = CardDetails("4242424242424242", 12, 2035, "123", "Dana Demo")
    assert pay(db, gateway, principal, plan, ChargeRequest("", 0, "USD", "", card=card)).status == "succeeded"


def ask(amount_minor: int, source: RefundSource = RefundSource.RETAINER) -> None:
    ask_for_refund(portal.current().db, customer(), source, Money(amount_minor, "USD"), "We closed the shop")


def refund_rows() -> list[tuple[str, str, int]]:
    with portal.current().db.reading() as session:
        return [
            (r.method, r.status, r.amount_minor) for r in session.scalars(select(Refund).order_by(Refund.id))
        ]


async def test_approving_pays_online_money_back_through_the_gateway(
    owner: User, gateway: RecordingSandbox
) -> None:
    pay_q1_retainer_by_card(gateway)
    available = balances_of(CUSTOMER_EMAIL).available_retainer  # $700 paid offline, then $500 by card
    ask(available.minor)
    await owner.open("/admin/refunds")
    await owner.should_see("Open requests")
    await owner.should_see("We closed the shop")
    await owner.should_see("Retainer payments · asked")
    owner.find(marker="approve").click()
    await owner.should_see("$500.00 paid back through the payment service; $700.00 to pay back by hand.")
    assert [amount for _payment, amount in gateway.refunds] == [50000]
    assert refund_rows() == [("manual", "succeeded", 70000), ("gateway", "succeeded", 50000)]
    assert balances_of(CUSTOMER_EMAIL).available_retainer == Money(0, "USD")
    await owner.should_see("No refund requests waiting.")
    await owner.should_see("To the card or account · Receipt")


async def test_a_request_drawing_on_offline_money_is_paid_back_by_hand(
    owner: User, gateway: RecordingSandbox
) -> None:
    ask(
        3000, RefundSource.CREDIT
    )  # the demo's credits come from a credit note and a payment without gateway id
    await owner.open("/admin/refunds")
    owner.find(marker="approve").click()
    await owner.should_see("to pay back by hand.")
    assert gateway.refunds == []
    assert [(method, amount) for method, _status, amount in refund_rows()] == [("manual", 3000)]


async def test_declining_makes_the_amount_available_again(owner: User, gateway: RecordingSandbox) -> None:
    before = balances_of(CUSTOMER_EMAIL)
    ask(20000)
    assert balances_of(CUSTOMER_EMAIL).reserved_retainer == Money(20000, "USD")
    await owner.open("/admin/refunds")
    owner.find(marker="decline").click()
    await owner.should_see("The amount becomes available to the client again.")
    set_value(owner, "decline-note", "Please use it on your next invoice.")
    owner.find(marker="decline-submit").click()
    await owner.should_see("Note: Please use it on your next invoice.")
    after = balances_of(CUSTOMER_EMAIL)
    assert (after.available_retainer, after.reserved_retainer) == (before.available_retainer, Money(0, "USD"))
    assert refund_rows() == []


async def test_a_gateway_refusal_shows_the_refund_failed_and_leaves_the_money(
    owner: User, gateway: RecordingSandbox
) -> None:
    pay_q1_retainer_by_card(gateway)
    total = balances_of(CUSTOMER_EMAIL).available_retainer
    ask(total.minor)
    gateway.refuse = True
    await owner.open("/admin/refunds")
    owner.find(marker="approve").click()
    await owner.should_see("approved, but not all of it went through")
    await owner.should_see("The payment service refused $500.00")
    await owner.should_see("The payment service said: The payment service could not do this.")
    await until(lambda: bool(owner.find(marker="refund-line-failed").elements))
    assert refund_rows() == [("manual", "succeeded", 70000), ("gateway", "failed", 50000)]
    assert balances_of(CUSTOMER_EMAIL).available_retainer == Money(50000, "USD")


async def test_asking_again_settles_a_pending_refund_once_and_tells_the_customers_pages(
    owner: User, gateway: RecordingSandbox
) -> None:
    pay_q1_retainer_by_card(gateway)
    ask(balances_of(CUSTOMER_EMAIL).available_retainer.minor)
    gateway.silent = True
    await owner.open("/admin/refunds")
    owner.find(marker="approve").click()
    await owner.should_see("The payment service has not confirmed $500.00 yet.")
    await owner.should_see("Waiting for the payment service")
    assert refund_rows() == [("manual", "succeeded", 70000), ("gateway", "pending", 50000)]

    with portal.current().db.reading() as session:
        client = session.scalars(
            select(Client.public_id).join(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
    topic = client_documents_topic(client)
    before = portal.current().events.version(topic)
    gateway.silent = False
    owner.find(marker="retry-refund").click()
    await owner.should_see("The payment service paid it back.")
    assert refund_rows() == [("manual", "succeeded", 70000), ("gateway", "succeeded", 50000)]
    assert portal.current().events.version(topic) > before  # the customer's open pages refresh
    assert [amount for _payment, amount in gateway.refunds] == [50000, 50000]  # asked twice, paid once
    await owner.should_not_see(marker="retry-refund")
