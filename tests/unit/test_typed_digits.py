"""Numbers typed into forms: '²'.isdigit() is true, yet int('²') raises. Each reader takes decimal digits
only (any script's: int() reads those), so such a character is a message for its field, never an error
in the handler."""

from __future__ import annotations

import pytest

from components.card_details import read_expiry
from services.errors import InvalidDetails, InvalidPaymentDetails
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.smtp_settings import SmtpChange, _validate
from tests.factories import Clock


@pytest.mark.parametrize("typed", ["²/30", "12/³⁰", "1²/2030", "12/⑳"])
def test_an_expiry_with_digits_that_are_not_decimal_is_unreadable_not_a_crash(typed: str) -> None:
    assert read_expiry(typed) == (0, 0)


def test_decimal_digits_of_other_scripts_still_read() -> None:
    assert read_expiry("١٢/٣٠") == (12, 2030)
    assert read_expiry("１２/２０３０") == (12, 2030)


@pytest.mark.parametrize(
    ("number", "cvc", "field"),
    [("424242424242424²", "123", "card_number"), ("4242424242424242", "12³", "cvc")],
)
def test_the_sandbox_refuses_other_digits_in_a_card(number: str, cvc: str, field: str) -> None:
    card = CardDetails(number=number, exp_month=12, exp_year=2030, cvc=cvc, holder_name="Ann")
    with pytest.raises(InvalidPaymentDetails) as refused:
        SandboxGateway(clock=Clock()).charge(ChargeRequest("k1", 1000, "USD", "", card=card))
    assert refused.value.field == field


def test_an_smtp_port_with_other_digits_is_a_message_for_the_port() -> None:
    change = SmtpChange("smtp.example.com", "5²7", "starttls", "", "", "billing@example.com")
    with pytest.raises(InvalidDetails) as refused:
        _validate(change)
    assert set(refused.value.errors) == {"port"}
