"""Paying with a saved method: only the client's own, and only while it is not removed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Payment, SavedPaymentMethod
from services.errors import InvalidPaymentDetails, human_message
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.online_payments import SAVED_METHOD_GONE, pay, plan_pay_invoice
from services.principal import Principal
from services.saved_methods import remove_saved_method
from tests.factories import Clock, make_customer, make_sent_invoice


@pytest.fixture
def clock():
    return Clock()


def save_a_card(db, gateway, principal: Principal, clock) -> SavedPaymentMethod:
    """Pay an invoice of ``principal``'s with a new card, kept as a saved method."""
    invoice = make_sent_invoice(db, principal.client_id, 1000)
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")
    plan = plan_pay_invoice(db, principal, invoice.public_id)
    request = ChargeRequest("", 0, "USD", "", card=card, save_method=True)
    pay(db, gateway, principal, plan, request, clock=clock)
    with db.reading() as session:
        return session.scalars(
            select(SavedPaymentMethod).where(SavedPaymentMethod.client_id == principal.client_id)
        ).one()


def with_saved(gateway_method_id: str) -> ChargeRequest:
    return ChargeRequest("", 0, "USD", "", saved_method_id=gateway_method_id)


def attempts_of(db, principal: Principal) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).where(Payment.client_id == principal.client_id)) or 0


def test_another_clients_saved_method_is_refused_and_no_attempt_is_stored(db, clock):
    gateway = SandboxGateway(clock=clock)
    payer = make_customer(db)
    other = make_customer(db, name="Other Ltd", email="bo@other.example")
    theirs = save_a_card(db, gateway, other, clock)
    invoice = make_sent_invoice(db, payer.client_id, 5000)
    plan = plan_pay_invoice(db, payer, invoice.public_id)

    with pytest.raises(InvalidPaymentDetails) as refused:
        pay(db, gateway, payer, plan, with_saved(theirs.gateway_method_id), clock=clock)

    assert refused.value.field == "method"
    assert human_message(refused.value) == SAVED_METHOD_GONE
    assert "nothing was charged" in SAVED_METHOD_GONE
    assert attempts_of(db, payer) == 0


def test_a_removed_saved_method_is_refused_and_no_attempt_is_stored(db, clock):
    gateway = SandboxGateway(clock=clock)
    payer = make_customer(db)
    mine = save_a_card(db, gateway, payer, clock)
    remove_saved_method(db, gateway, payer, mine.public_id, clock=clock)
    invoice = make_sent_invoice(db, payer.client_id, 5000)
    plan = plan_pay_invoice(db, payer, invoice.public_id)
    before = attempts_of(db, payer)

    with pytest.raises(InvalidPaymentDetails) as refused:
        pay(db, gateway, payer, plan, with_saved(mine.gateway_method_id), clock=clock)

    assert human_message(refused.value) == SAVED_METHOD_GONE
    assert attempts_of(db, payer) == before


def test_an_unknown_method_id_is_refused_too(db, clock):
    gateway = SandboxGateway(clock=clock)
    payer = make_customer(db)
    invoice = make_sent_invoice(db, payer.client_id, 5000)
    plan = plan_pay_invoice(db, payer, invoice.public_id)
    with pytest.raises(InvalidPaymentDetails):
        pay(db, gateway, payer, plan, with_saved("pm_made_up"), clock=clock)
    assert attempts_of(db, payer) == 0


def test_the_clients_own_active_saved_method_still_pays(db, clock):
    gateway = SandboxGateway(clock=clock)
    payer = make_customer(db)
    mine = save_a_card(db, gateway, payer, clock)
    invoice = make_sent_invoice(db, payer.client_id, 5000)
    plan = plan_pay_invoice(db, payer, invoice.public_id)
    outcome = pay(db, gateway, payer, plan, with_saved(mine.gateway_method_id), clock=clock)
    assert outcome.status == "succeeded"
