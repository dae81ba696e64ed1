"""The sandbox gateway: Stripe's test cards, two test IBANs, a message per wrong field, no real money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.gateways.base import (
    BankAccountDetails,
    CardDetails,
    ChargeRequest,
    ChargeStatus,
    InvalidPaymentDetails,
    MethodKind,
    PaymentGateway,
)
from services.gateways.sandbox import SandboxGateway, luhn_valid

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gateway(clock):
    return SandboxGateway(clock=clock)


def card(number="4242 4242 4242 4242", month=12, year=2028, cvc="123"):
    return CardDetails(number=number, exp_month=month, exp_year=year, cvc=cvc, holder_name="Dana Demo")


def pay_card(gateway, details, key="attempt-1", save=False):
    return gateway.charge(ChargeRequest(key, 12345, "USD", "INV-00001", card=details, save_method=save))


def pay_bank(gateway, iban="DE89370400440532013000", key="attempt-1", mandate=True, holder="Dana Demo"):
    account = BankAccountDetails(
        holder_name=holder, iban=iban, email="dana@client.example", mandate_accepted=mandate
    )
    return gateway.charge(ChargeRequest(key, 12345, "EUR", "INV-00001", bank_account=account))


def test_the_sandbox_satisfies_the_gateway_protocol(gateway):
    assert isinstance(gateway, PaymentGateway)
    assert gateway.is_sandbox


def test_the_success_card_is_charged_and_shows_only_brand_last4_and_expiry(gateway):
    result = pay_card(gateway, card(), save=True)
    assert result.status == ChargeStatus.SUCCEEDED
    assert (result.method.kind, result.method.brand, result.method.last4) == (MethodKind.CARD, "Visa", "4242")
    assert (result.method.exp_month, result.method.exp_year) == (12, 2028)
    assert result.saved
    assert "4242424242424242" not in repr(result)


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("4000000000000002", "card_declined", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000069", "expired_card", "Your card has expired."),
    ],
)
def test_the_failure_cards_fail_with_their_reason(gateway, number, code, message):
    result = pay_card(gateway, card(number))
    assert result.status == ChargeStatus.FAILED
    assert (result.failure_code, result.failure_message) == (code, message)
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.FAILED


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        (card("4242 4242 4242 4241"), "card_number", "The card number is not valid."),
        (card("4242-abcd"), "card_number", "The card number is not valid."),
        (card("5555555555554444"), "card_number", "Sandbox mode accepts test cards only."),
        (card(month=13), "expiry", "The expiry month must be between 1 and 12."),
        (card(month=10, year=2026), "expiry", "The expiry date is in the past."),
        (card(cvc="12"), "cvc", "The CVV must be 3 or 4 digits."),
        (card(cvc="12a"), "cvc", "The CVV must be 3 or 4 digits."),
    ],
)
def test_each_wrong_card_field_gets_its_own_message(gateway, details, field, message):
    with pytest.raises(InvalidPaymentDetails) as refused:
        pay_card(gateway, details)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_a_card_expiring_this_month_is_still_good(gateway):
    assert pay_card(gateway, card(month=11, year=2026)).status == ChargeStatus.SUCCEEDED


def test_the_card_number_is_never_in_the_details_repr():
    assert "4242424242424242" not in repr(card("4242424242424242"))
    assert "123" not in repr(card(cvc="123"))


def test_a_retried_request_returns_the_first_reply_and_charges_once(gateway):
    first = pay_card(gateway, card(), key="attempt-7")
    again = pay_card(gateway, card(), key="attempt-7")
    other = pay_card(gateway, card(), key="attempt-8")
    assert again == first
    assert other.gateway_payment_id != first.gateway_payment_id


def test_a_saved_card_can_be_charged_again(gateway):
    saved = pay_card(gateway, card("4000000000000002"), key="a", save=True).method.gateway_method_id
    success = pay_card(gateway, card(), key="b", save=True).method.gateway_method_id
    declined = gateway.charge(ChargeRequest("k1", 500, "USD", "INV-2", saved_method_id=saved))
    charged = gateway.charge(ChargeRequest("k2", 500, "USD", "INV-2", saved_method_id=success))
    assert declined.status == ChargeStatus.FAILED
    assert charged.status == ChargeStatus.SUCCEEDED


def test_a_bank_debit_is_processing_for_a_few_seconds_then_settles(gateway, clock):
    result = pay_bank(gateway)
    assert result.status == ChargeStatus.PROCESSING
    assert result.method.last4 == "3000"
    clock.now += timedelta(seconds=4)
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.PROCESSING
    clock.now += timedelta(seconds=1)
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.SUCCEEDED


def test_the_failing_test_account_fails_after_processing(gateway, clock):
    result = pay_bank(gateway, "DE62 3704 0044 0532 0130 01")
    assert result.status == ChargeStatus.PROCESSING
    clock.now += timedelta(seconds=6)
    settled = gateway.retrieve(result.gateway_payment_id)
    assert settled.status == ChargeStatus.FAILED
    assert settled.failure_message == "The bank refused the direct debit."


def test_a_processing_debit_survives_a_restart_of_the_sandbox(clock):
    result = pay_bank(SandboxGateway(clock=clock))
    clock.now += timedelta(seconds=10)
    assert SandboxGateway(clock=clock).retrieve(result.gateway_payment_id).status == ChargeStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"iban": "DE89370400440532013001"}, "iban", "The IBAN's check digits are wrong; please check it."),
        ({"iban": "not an iban"}, "iban", "This is not a valid IBAN."),
        ({"iban": "GB82WEST12345698765432"}, "iban", "Sandbox mode accepts test accounts only."),
        ({"mandate": False}, "mandate", "Accept the direct debit mandate to pay by bank account."),
        ({"holder": "  "}, "holder_name", "Enter the account holder's name."),
    ],
)
def test_each_wrong_account_field_gets_its_own_message(gateway, kwargs, field, message):
    with pytest.raises(InvalidPaymentDetails) as refused:
        pay_bank(gateway, **kwargs)
    assert (refused.value.field, refused.value.message) == (field, message)


def test_refunds_succeed_and_repeat_with_the_same_id(gateway):
    charged = pay_card(gateway, card())
    first = gateway.refund(charged.gateway_payment_id, 1000, "refund-1")
    assert first.succeeded
    assert gateway.refund(charged.gateway_payment_id, 1000, "refund-1") == first


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4000000000000002", True),
        ("4242424242424241", False),
        ("79927398713", True),
    ],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid
