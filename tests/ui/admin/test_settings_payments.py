"""Settings > Payments: the methods customers may use (enforced on the Pay page and in the service), and
the gateway (sandbox or Stripe, with Check connection), switched in the running portal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select

from models import IntegrationSettings, Organization, Payment
from services import portal
from services.gateways.stripe_gateway import StripeGateway
from services.gateways.switch import unwrap
from services.payment_settings import AcceptedMethods, update_payment_methods
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import post_login

SECRET_KEY = "sk_test_12345abcd"
PUBLISHABLE_KEY = "pk_test_12345wxyz"
WEBHOOK_SECRET = "whsec_test_localstripe"


def methods() -> tuple[bool, bool]:
    with portal.current().db.reading() as session:
        row = session.execute(select(Organization.accept_cards, Organization.accept_bank_debits)).one()
        return bool(row.accept_cards), bool(row.accept_bank_debits)


def integration() -> IntegrationSettings | None:
    with portal.current().db.reading() as session:
        row = session.scalars(select(IntegrationSettings)).one_or_none()
        if row is not None:
            session.expunge(row)
        return row


def payments() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(Payment)) or 0


def pay_options(user: User) -> list[str]:
    (radio,) = user.find(marker="pay-method").elements
    assert isinstance(radio, ui.radio)
    return list(dict(radio.options).values()) if isinstance(radio.options, dict) else list(radio.options)


def field(user: User, marker: str) -> Any:  # an input, textarea or checkbox
    (element,) = user.find(marker=marker).elements
    return element


def choose_stripe(user: User, secret: str, publishable: str, webhook: str) -> None:
    set_value(user, "gateway-choice", "stripe")
    set_value(user, "stripe-secret-key", secret)
    set_value(user, "stripe-publishable-key", publishable)
    set_value(user, "stripe-webhook-secret", webhook)


async def test_turning_cards_off_takes_them_off_the_pay_page(owner: User) -> None:
    await owner.open("/admin/settings/payments")
    set_value(owner, "accept-cards", False)
    owner.find(marker="methods-save").click()
    await owner.should_see("The payment methods are saved.")
    assert methods() == (False, True)

    await post_login(owner)
    await owner.open("/pay")
    await owner.should_see("Payment method")
    assert "New card" not in pay_options(owner)
    assert "New bank account" in pay_options(owner)
    await owner.should_not_see(marker="card-number")


async def test_a_method_turned_off_after_the_page_was_drawn_is_refused_and_nothing_is_charged(
    owner: User,
) -> None:
    await post_login(owner)
    await owner.open("/pay")
    with portal.current().db.reading() as session:
        organization_id = session.scalars(select(Organization.id)).one()
    update_payment_methods(
        portal.current().db, organization_id, AcceptedMethods(cards=False, bank_debits=True)
    )
    before = payments()
    owner.find(marker="card-number").type("4242 4242 4242 4242")
    owner.find(marker="card-expiry").type("12/30")
    owner.find(marker="card-cvc").type("123")
    owner.find(marker="card-name").type("Dana Demo")
    owner.find(marker="pay-submit").click()
    await owner.should_see(
        "Card payments are not accepted at the moment, so nothing was charged.", retries=40
    )
    assert payments() == before


async def test_at_least_one_method_must_stay_on(owner: User) -> None:
    await owner.open("/admin/settings/payments")
    set_value(owner, "accept-cards", False)
    set_value(owner, "accept-bank-debits", False)
    owner.find(marker="methods-save").click()
    await owner.should_see("Customers need at least one way to pay")
    assert methods() == (True, True)


async def test_check_connection_with_the_sandbox_is_fine_and_saves_nothing(owner: User) -> None:
    await owner.open("/admin/settings/payments")
    await owner.should_see("Payments now go through: Sandbox (no real money)")
    set_value(owner, "gateway-choice", "sandbox")
    owner.find(marker="gateway-check").click()
    await owner.should_see("The sandbox is ready")
    assert integration() is None


@pytest.mark.parametrize(
    ("secret", "publishable", "webhook", "marker", "words"),
    [
        ("pk_test_12345abcd", PUBLISHABLE_KEY, WEBHOOK_SECRET, "stripe-secret-key", "starts with sk_"),
        (SECRET_KEY, "sk_test_12345wxyz", WEBHOOK_SECRET, "stripe-publishable-key", "starts with pk_"),
        (SECRET_KEY, PUBLISHABLE_KEY, "secret_123456", "stripe-webhook-secret", "starts with whsec_"),
        (SECRET_KEY, "pk_live_12345wxyz", WEBHOOK_SECRET, "stripe-publishable-key", "both be test keys"),
        ("sk_test_12 345", PUBLISHABLE_KEY, WEBHOOK_SECRET, "stripe-secret-key", "without spaces"),
        ("", PUBLISHABLE_KEY, WEBHOOK_SECRET, "stripe-secret-key", "Enter the secret key"),
    ],
)
async def test_malformed_stripe_keys_are_refused_and_nothing_changes(
    owner: User, secret: str, publishable: str, webhook: str, marker: str, words: str
) -> None:
    await owner.open("/admin/settings/payments")
    choose_stripe(owner, secret, publishable, webhook)
    owner.find(marker="gateway-save").click()
    await owner.should_see("Please correct the fields marked in red.")
    assert words in field(owner, marker).props["error-message"]
    assert integration() is None
    assert portal.current().gateway.is_sandbox
    owner.find(marker="gateway-check").click()  # Check connection checks the same way, before asking
    await until(lambda: words in (field(owner, marker).props.get("error-message") or ""))


async def test_saving_stripe_switches_the_running_portal_and_hides_the_keys(owner: User) -> None:
    await owner.open("/admin/settings/payments")
    choose_stripe(owner, SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET)
    owner.find(marker="gateway-save").click()
    await owner.should_see("Saved. Payments now go through Stripe.")
    running = unwrap(portal.current().gateway)
    assert isinstance(running, StripeGateway)
    assert running.publishable_key == PUBLISHABLE_KEY
    assert portal.current().gateway.name == "stripe"
    row = integration()
    assert row is not None
    assert (row.gateway, row.stripe_secret_key, row.stripe_webhook_secret) == (
        "stripe",
        SECRET_KEY,
        WEBHOOK_SECRET,
    )
    secret = field(owner, "stripe-secret-key")
    assert secret.value == ""
    assert secret.props["hint"] == "Stored: sk_test_…abcd. Leave empty to keep it."

    await owner.open("/admin/settings/payments")  # the keys are never sent back to the browser
    assert SECRET_KEY not in str(owner.find(marker="stripe-secret-key").elements.pop().props)
    owner.find(marker="gateway-save").click()  # empty fields keep the stored keys
    await owner.should_see("Saved. Payments now go through Stripe.")
    assert integration().stripe_secret_key == SECRET_KEY  # type: ignore[union-attr]

    set_value(owner, "gateway-choice", "sandbox")
    owner.find(marker="gateway-save").click()
    await owner.should_see("Saved. Payments now go through Sandbox (no real money).")
    assert portal.current().gateway.is_sandbox


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("localstripe", reason="localstripe is not installed: no fake Stripe to ask")
    from tests.integration.localstripe_server import start_localstripe

    server = start_localstripe(Path(tmp_path_factory.mktemp("localstripe")))
    yield server.api_base
    server.stop()


@pytest.fixture
def stripe_at_localstripe(localstripe: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The portal's Stripe requests go to localstripe (set before the portal starts)."""
    monkeypatch.setenv("PORTAL_STRIPE_API_BASE", localstripe)
    return localstripe


async def test_check_connection_asks_stripe_and_says_what_it_answered(
    stripe_at_localstripe: str, owner: User
) -> None:
    await owner.open("/admin/settings/payments")
    choose_stripe(owner, "rk_test_notthekey", PUBLISHABLE_KEY, WEBHOOK_SECRET)
    owner.find(marker="gateway-check").click()
    await owner.should_see("Stripe did not accept the secret key", retries=60)
    choose_stripe(owner, SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET)
    owner.find(marker="gateway-check").click()
    await owner.should_see("Connected to Stripe in test mode: the secret key works.", retries=60)
    assert integration() is None  # checking saves nothing
    assert portal.current().gateway.is_sandbox


def link_days() -> int:
    with portal.current().db.reading() as session:
        return session.scalars(select(Organization.pay_link_days)).one()


async def test_the_owner_sets_how_many_days_a_pay_link_works(owner: User) -> None:
    await owner.open("/admin/settings/payments")
    assert field(owner, "pay-link-days").value == 60
    for wrong in (0, 366, None, 2.5):
        set_value(owner, "pay-link-days", wrong)
        owner.find(marker="pay-link-days-save").click()
        await owner.should_see("Enter a whole number of days from 1 to 365.")
        assert link_days() == 60  # a refusal changes nothing
    set_value(owner, "pay-link-days", 14)
    owner.find(marker="pay-link-days-save").click()
    await owner.should_see("Saved. Pay links sent from now on work for 14 days.")
    await owner.should_not_see("Enter a whole number of days from 1 to 365.")
    assert link_days() == 14
    await owner.open("/admin/settings/payments")
    assert field(owner, "pay-link-days").value == 14
