"""Payment methods on offer, the gateway choice and its keys, and the switchable gateway."""

from __future__ import annotations

import pytest

from services.database import Database
from services.errors import InvalidDetails, InvalidPaymentDetails
from services.gateways.base import CardDetails, ChargeRequest, PaymentGateway
from services.gateways.sandbox import SandboxGateway
from services.gateways.stripe_gateway import StripeGateway
from services.gateways.switch import SwitchableGateway, unwrap
from services.online_payments import pay, plan_pay_all
from services.payment_settings import (
    AcceptedMethods,
    GatewayChange,
    check_connection,
    configured_settings,
    get_payment_settings,
    key_hint,
    save_gateway,
    update_payment_methods,
)
from services.portal import choose_gateway
from services.settings import Settings
from tests.factories import fixed_clock, make_customer, make_organization, make_sent_invoice

STRIPE = GatewayChange("stripe", "sk_test_abcdefgh1234", "pk_test_abcdefgh5678", "whsec_abcdefgh9999")


def test_at_least_one_method_stays_on(db: Database) -> None:
    organization_id = make_organization(db)
    with pytest.raises(InvalidDetails):
        update_payment_methods(db, organization_id, AcceptedMethods(False, False))
    update_payment_methods(db, organization_id, AcceptedMethods(False, True), clock=fixed_clock)
    assert get_payment_settings(db, organization_id, Settings()).methods == AcceptedMethods(False, True)


def test_paying_with_a_method_turned_off_is_refused_before_anything_is_stored(db: Database) -> None:
    principal = make_customer(db)
    make_sent_invoice(db, principal.client_id, 5000)
    update_payment_methods(db, principal.organization_id, AcceptedMethods(cards=False, bank_debits=True))
    card = CardDetails("4242424242424242", 12, 2030, "123", "Ann")
    with pytest.raises(InvalidPaymentDetails) as raised:
        pay(db, SandboxGateway(clock=fixed_clock), principal, plan_pay_all(db, principal, clock=fixed_clock),
            ChargeRequest("", 0, "", "", card=card), clock=fixed_clock)  # fmt: skip
    assert "Card payments are not accepted" in raised.value.message


def test_stripe_keys_are_stored_hinted_and_kept_when_left_empty(db: Database) -> None:
    organization_id = make_organization(db)
    chosen = save_gateway(db, organization_id, STRIPE, Settings(), clock=fixed_clock)
    assert isinstance(choose_gateway(chosen), StripeGateway)
    shown = get_payment_settings(db, organization_id, Settings())
    assert (shown.gateway, shown.from_environment, shown.secret_key_hint) == (
        "stripe",
        False,
        "sk_test_…1234",
    )
    assert shown.webhook_secret_hint == "whsec_…9999"
    again = save_gateway(db, organization_id, GatewayChange("stripe"), Settings())
    assert again.stripe_secret_key == STRIPE.secret_key
    assert configured_settings(db, Settings()).stripe_publishable_key == STRIPE.publishable_key
    sandbox = save_gateway(db, organization_id, GatewayChange("sandbox"), Settings())
    assert isinstance(choose_gateway(sandbox), SandboxGateway)


def test_with_no_choice_the_environment_applies(db: Database) -> None:
    organization_id = make_organization(db)
    env = Settings(
        stripe_secret_key="sk_live_envenvenv1",
        stripe_publishable_key="pk_live_x",
        stripe_webhook_secret="whsec_y",
    )
    assert configured_settings(db, env) is env
    shown = get_payment_settings(db, organization_id, env)
    assert (shown.gateway, shown.from_environment, shown.secret_key_hint) == ("stripe", True, "sk_live_…env1")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (GatewayChange("paypal"), "gateway"),
        (
            GatewayChange("stripe", "pk_test_abcdefgh", STRIPE.publishable_key, STRIPE.webhook_secret),
            "secret_key",
        ),
        (
            GatewayChange("stripe", STRIPE.secret_key, "pk_live_abcdefgh", STRIPE.webhook_secret),
            "publishable_key",
        ),
        (GatewayChange("stripe", STRIPE.secret_key, STRIPE.publishable_key, "wh_abcdefgh"), "webhook_secret"),
        (GatewayChange("stripe", "", STRIPE.publishable_key, STRIPE.webhook_secret), "secret_key"),
    ],
)
def test_malformed_keys_are_refused_and_nothing_is_stored(
    db: Database, change: GatewayChange, key: str
) -> None:
    organization_id = make_organization(db)
    with pytest.raises(InvalidDetails) as raised:
        save_gateway(db, organization_id, change, Settings())
    assert key in raised.value.errors
    assert get_payment_settings(db, organization_id, Settings()).from_environment
    with pytest.raises(InvalidDetails):
        check_connection(db, organization_id, change, Settings())


def test_the_sandbox_check_is_always_fine(db: Database) -> None:
    answer = check_connection(db, make_organization(db), GatewayChange("sandbox"), Settings())
    assert answer.ok
    assert "no real money" in answer.message


def test_a_switchable_gateway_is_a_gateway_and_delegates_to_the_latest() -> None:
    switch = SwitchableGateway(SandboxGateway())
    assert isinstance(switch, PaymentGateway)
    assert (switch.name, switch.is_sandbox) == ("sandbox", True)
    stripe = StripeGateway("sk_test_x", "pk_test_x", "whsec_x")
    switch.replace(SwitchableGateway(stripe))
    assert unwrap(switch) is stripe  # never a switch inside a switch
    assert (switch.name, switch.is_sandbox, switch.collects_cards_in_browser) == ("stripe", False, True)
    assert switch.accepts_bank_debits("EUR")
    assert not switch.accepts_bank_debits("USD")


def test_key_hints_never_show_the_key() -> None:
    assert key_hint("sk_test_51Habcdefghijklmnop") == "sk_test_…mnop"
    assert key_hint("rk_live_1234567890") == "rk_live_…7890"
    assert key_hint("whsec_short") == "whsec_…"
    assert key_hint("") == ""
