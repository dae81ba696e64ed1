"""StripeGateway against a real localstripe server on loopback: cards set up as Stripe.js would, declines,
3-D Secure, SEPA debits settled by signed webhooks, refunds, saved-method changes and refusals."""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip(
    "localstripe", reason="localstripe is not installed: there is no fake Stripe to test against"
)

import stripe

from services.errors import GatewayUnavailable, human_message
from services.gateways.base import (
    BankAccountDetails,
    BillingAddress,
    CardDetails,
    ChargeQuery,
    ChargeRequest,
    ChargeStatus,
    InvalidPaymentDetails,
    InvalidWebhook,
    MethodKind,
    MethodUpdate,
    PaymentGateway,
    WebhookKind,
)
from services.gateways.stripe_gateway import AUTHENTICATION_REQUIRED, StripeGateway
from services.i18n import using_language
from tests.integration.localstripe_server import LocalStripe, start_localstripe

SECRET_KEY = "sk_test_12345"
PUBLISHABLE_KEY = "pk_test_12345"
WEBHOOK_SECRET = "whsec_test_localstripe"
VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches fine, every charge is declined
NEEDS_3DS = "4000002760003184"
IBAN_SETTLES = "DE89370400440532013000"
IBAN_BOUNCES = "DE62370400440532013001"  # accepted, then the debit fails about 0.5 s later
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
ADDRESS = BillingAddress("1 Main St", "Floor 2", "Berlin", "BE", "10115", "DE")


class WebhookInbox:
    """A loopback HTTP server that keeps every webhook localstripe posts to it."""

    def __init__(self) -> None:
        received: queue.Queue[tuple[bytes, str]] = queue.Queue()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        self._seen: list[tuple[bytes, str]] = []
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, event_type: str, object_id: str, timeout: float = 10) -> tuple[bytes, str]:
        """The first delivery of ``event_type`` about ``object_id``: its raw body and signature header."""
        deadline = time.monotonic() + timeout
        while True:
            for body, signature in self._seen:
                event = json.loads(body)
                if event["type"] == event_type and event["data"]["object"]["id"] == object_id:
                    return body, signature
            try:
                self._seen.append(self.received.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no {event_type} webhook for {object_id} within {timeout} s") from None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def inbox(localstripe: LocalStripe) -> Iterator[WebhookInbox]:
    receiver = WebhookInbox()
    localstripe.configure_webhook(receiver.url, WEBHOOK_SECRET)
    yield receiver
    receiver.close()


@pytest.fixture
def gateway(localstripe: LocalStripe) -> StripeGateway:
    return StripeGateway(
        SECRET_KEY,
        PUBLISHABLE_KEY,
        WEBHOOK_SECRET,
        localstripe.api_base,
        localstripe.js_url,
        clock=lambda: NOW,
    )


@pytest.fixture
def stripe_api(localstripe: LocalStripe) -> stripe.StripeClient:
    """Direct API access, for what the browser does in production and for checking what Stripe holds."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.api_base})


@pytest.fixture
def customer(gateway: StripeGateway) -> str:
    return gateway.ensure_customer("", email="ada@example.com", name="Ada Lovelace")


@pytest.fixture
def browser_card(stripe_api: stripe.StripeClient) -> Callable[[str], str]:
    """Stands in for Stripe.js: the raw test number goes to the gateway's API, never through our server."""

    def make(number: str) -> str:
        method = stripe_api.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
                "billing_details": {"name": "Ada Lovelace", "address": {"postal_code": "10115"}},
            }
        )
        return str(method.id)

    return make


def request(**fields: Any) -> ChargeRequest:
    defaults: dict[str, Any] = {
        "idempotency_key": f"pay_{uuid.uuid4().hex}",
        "amount_minor": 1234,
        "currency": "EUR",
        "description": "INV-0001",
    }
    return ChargeRequest(**(defaults | fields))


def bank_account(iban: str = IBAN_SETTLES, **fields: Any) -> BankAccountDetails:
    defaults: dict[str, Any] = {
        "holder_name": "Ada Lovelace",
        "email": "ada@example.com",
        "mandate_accepted": True,
    }
    return BankAccountDetails(iban=iban, **(defaults | fields))


def authenticate(localstripe: LocalStripe, payment_id: str, client_secret: str, *, success: bool) -> None:
    """What the fake Stripe.js's confirmCardPayment does when the customer answers the 3-D Secure modal."""
    body = json.dumps({"key": PUBLISHABLE_KEY, "client_secret": client_secret}).encode()
    url = (
        f"{localstripe.api_base}/v1/payment_intents/{payment_id}/_authenticate?success={str(success).lower()}"
    )
    with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=5):  # noqa: S310
        pass


def signed(event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    payload = json.dumps(event)
    return payload.encode(), stripe.WebhookSignature.generate_signature_header(payload, secret)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_gateway_satisfies_the_protocol(gateway: StripeGateway) -> None:
    assert isinstance(gateway, PaymentGateway)
    assert (gateway.name, gateway.is_sandbox, gateway.collects_cards_in_browser) == ("stripe", False, True)


def test_a_customer_is_created_once_and_then_kept(
    gateway: StripeGateway, stripe_api: stripe.StripeClient
) -> None:
    customer_id = gateway.ensure_customer("", email="ada@example.com", name="Ada Lovelace")

    assert customer_id.startswith("cus_")
    assert gateway.ensure_customer(customer_id, email="other@example.com", name="Other") == customer_id
    created = stripe_api.v1.customers.retrieve(customer_id)
    assert (created.email, created.name) == ("ada@example.com", "Ada Lovelace")


def test_card_setup_gives_the_browser_a_setup_secret_the_key_and_the_script(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str
) -> None:
    setup = gateway.start_card_setup(customer)

    assert setup.client_secret.startswith("seti_")
    assert "_secret_" in setup.client_secret
    assert (setup.publishable_key, setup.js_url) == (PUBLISHABLE_KEY, localstripe.js_url)


def test_a_card_set_up_in_the_browser_is_charged_saved_and_charged_again(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, browser_card: Callable[[str], str]
) -> None:
    setup = gateway.start_card_setup(customer)
    card_id = browser_card(VISA)
    stripe_api.v1.setup_intents.confirm(
        setup.client_secret.split("_secret_")[0], params={"payment_method": card_id}
    )
    first = request(amount_minor=1234, payment_method_id=card_id, customer_id=customer, save_method=True)

    paid = gateway.charge(first)
    again = gateway.charge(request(amount_minor=500, saved_method_id=card_id, customer_id=customer))

    assert paid.status == again.status == ChargeStatus.SUCCEEDED
    assert paid.saved
    assert again.saved
    assert paid.gateway_payment_id != again.gateway_payment_id
    method = paid.method
    assert (method.gateway_method_id, method.kind, method.brand, method.last4) == (
        card_id,
        "card",
        "Visa",
        "4242",
    )
    assert (method.exp_month, method.exp_year, method.holder_name) == (12, 2030, "Ada Lovelace")
    assert method.billing_address.postal_code == "10115"
    intent = stripe_api.v1.payment_intents.retrieve(paid.gateway_payment_id)
    assert (intent.amount, intent.currency, intent.customer) == (1234, "eur", customer)
    assert intent.metadata["payment_id"] == first.idempotency_key
    assert stripe_api.v1.payment_intents.retrieve(again.gateway_payment_id).amount == 500
    assert stripe_api.v1.payment_methods.retrieve(card_id).customer == customer
    assert gateway.retrieve(paid.gateway_payment_id) == paid


def test_a_declined_card_fails_with_the_gateways_message_and_no_exception(
    gateway: StripeGateway, customer: str, browser_card: Callable[[str], str]
) -> None:
    card_id = browser_card(DECLINED_ON_CHARGE)

    result = gateway.charge(request(payment_method_id=card_id, customer_id=customer, save_method=True))

    assert result.status == ChargeStatus.FAILED
    assert (result.failure_code, result.failure_message) == ("card_declined", "Your card was declined.")
    assert (result.method.last4, result.saved) == ("0341", False)
    assert result.gateway_payment_id.startswith("pi_")
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.FAILED


def test_a_3d_secure_card_requires_action_and_succeeds_once_authenticated(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str, browser_card: Callable[[str], str]
) -> None:
    result = gateway.charge(request(payment_method_id=browser_card(NEEDS_3DS), customer_id=customer))

    assert result.status == ChargeStatus.REQUIRES_ACTION
    assert result.client_secret.startswith(f"{result.gateway_payment_id}_secret_")
    authenticate(localstripe, result.gateway_payment_id, result.client_secret, success=True)
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.SUCCEEDED


def test_an_automatic_charge_that_needs_3d_secure_fails_at_once_and_leaves_no_challenge_open(
    gateway: StripeGateway,
    stripe_api: stripe.StripeClient,
    customer: str,
    browser_card: Callable[[str], str],
) -> None:
    card_id = browser_card(NEEDS_3DS)  # saved earlier; auto-pay charges it with nobody there to answer
    stripe_api.v1.payment_methods.attach(card_id, params={"customer": customer})
    result = gateway.charge(request(saved_method_id=card_id, customer_id=customer, off_session=True))

    assert result.status == ChargeStatus.FAILED
    assert result.failure_code == "authentication_required"
    assert result.failure_message == AUTHENTICATION_REQUIRED
    assert stripe_api.v1.payment_intents.retrieve(result.gateway_payment_id).status == "canceled"
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.FAILED


def test_a_failed_3d_secure_challenge_leaves_the_payment_failed(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str, browser_card: Callable[[str], str]
) -> None:
    result = gateway.charge(request(payment_method_id=browser_card(NEEDS_3DS), customer_id=customer))

    authenticate(localstripe, result.gateway_payment_id, result.client_secret, success=False)

    after = gateway.retrieve(result.gateway_payment_id)
    assert after.status == ChargeStatus.FAILED
    assert after.failure_code == "payment_intent_authentication_failure"


def test_an_attempt_whose_answer_was_lost_is_found_by_our_payment_id(
    gateway: StripeGateway, customer: str, browser_card: Callable[[str], str]
) -> None:
    charged = request(payment_method_id=browser_card(VISA), customer_id=customer)
    result = gateway.charge(charged)  # the answer that was lost
    other = gateway.charge(request(payment_method_id=browser_card(VISA), customer_id=customer))

    found = gateway.find_charge(ChargeQuery(charged.idempotency_key, customer, NOW))

    assert found is not None
    assert (found.gateway_payment_id, found.status) == (result.gateway_payment_id, ChargeStatus.SUCCEEDED)
    assert found.reference == charged.idempotency_key
    assert found.gateway_payment_id != other.gateway_payment_id
    assert (found.method.kind, found.method.last4) == (MethodKind.CARD, "4242")
    assert gateway.find_charge(ChargeQuery("pay_never_sent", customer, NOW)) is None


def test_closing_an_attempt_cancels_a_payment_intent_created_but_never_confirmed(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, browser_card: Callable[[str], str]
) -> None:
    key = f"pay_{uuid.uuid4().hex}"
    half_done = stripe_api.v1.payment_intents.create(  # the process died between create and confirm
        params={
            "amount": 1234,
            "currency": "eur",
            "customer": customer,
            "payment_method": browser_card(VISA),
            "metadata": {"payment_id": key},
        }
    )

    closed = gateway.close_attempt(ChargeQuery(key, customer, NOW))

    assert closed is not None
    assert (closed.gateway_payment_id, closed.status, closed.failure_code) == (
        half_done.id,
        ChargeStatus.FAILED,
        "canceled",
    )
    assert stripe_api.v1.payment_intents.retrieve(half_done.id).status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):  # it can never be confirmed behind our back
        stripe_api.v1.payment_intents.confirm(half_done.id)
    assert gateway.close_attempt(ChargeQuery("pay_never_sent", customer, NOW)) is None


def test_closing_an_attempt_spends_its_create_key_so_a_late_request_of_it_cannot_charge(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys: list[str] = []
    create = gateway._client.v1.payment_intents.create

    def recording(*args: Any, **kwargs: Any) -> Any:
        keys.append(kwargs["options"]["idempotency_key"])
        return create(*args, **kwargs)

    monkeypatch.setattr(gateway._client.v1.payment_intents, "create", recording)

    assert gateway.close_attempt(ChargeQuery("pay_stalled", customer, NOW)) is None

    # Stripe answers a later create with this key and other parameters with an idempotency error.
    assert keys == ["pay_stalled:create"]
    [closing] = [
        intent
        for intent in stripe_api.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        if intent.metadata and intent.metadata.to_dict().get("closes_payment_id") == "pay_stalled"
    ]
    assert closing.status == "canceled"
    assert gateway.find_charge(ChargeQuery("pay_stalled", customer, NOW)) is None


def test_closing_an_attempt_whose_create_key_was_used_answers_its_charge(
    gateway: StripeGateway, customer: str, browser_card: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    charged = request(payment_method_id=browser_card(VISA), customer_id=customer)
    result = gateway.charge(charged)
    find = gateway.find_charge
    answers = iter([None])  # the first look misses it (it was created just after)
    monkeypatch.setattr(gateway, "find_charge", lambda query: next(answers, None) or find(query))

    def key_in_use(*args: Any, **kwargs: Any) -> Any:
        raise stripe.IdempotencyError(
            "Keys for idempotent requests can only be used with the same parameters"
        )

    monkeypatch.setattr(gateway._client.v1.payment_intents, "create", key_in_use)

    closed = gateway.close_attempt(ChargeQuery(charged.idempotency_key, customer, NOW))

    assert closed is not None
    assert (closed.gateway_payment_id, closed.status) == (result.gateway_payment_id, ChargeStatus.SUCCEEDED)


def test_a_confirm_or_refund_still_under_way_at_stripe_is_in_doubt_not_refused(
    gateway: StripeGateway, customer: str, browser_card: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def in_progress(*args: Any, **kwargs: Any) -> Any:  # 409: the key's first request is not finished
        raise stripe.IdempotencyError("Another request with this key is in progress", http_status=409)

    monkeypatch.setattr(gateway._client.v1.payment_intents, "confirm", in_progress)
    with pytest.raises(GatewayUnavailable) as unknown:
        gateway.charge(request(payment_method_id=browser_card(VISA), customer_id=customer))
    assert unknown.value.gateway_payment_id.startswith("pi_")  # kept, so reconciliation asks about it

    monkeypatch.setattr(gateway._client.v1.refunds, "create", in_progress)
    with pytest.raises(GatewayUnavailable):
        gateway.refund(unknown.value.gateway_payment_id, 100, "refund_1")


def test_an_abandoned_challenge_is_cancelled_and_a_completed_one_is_left_alone(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str, browser_card: Callable[[str], str]
) -> None:
    abandoned = gateway.charge(request(payment_method_id=browser_card(NEEDS_3DS), customer_id=customer))
    completed = gateway.charge(request(payment_method_id=browser_card(NEEDS_3DS), customer_id=customer))
    authenticate(localstripe, completed.gateway_payment_id, completed.client_secret, success=True)

    assert gateway.cancel(abandoned.gateway_payment_id).status == ChargeStatus.FAILED
    assert gateway.cancel(completed.gateway_payment_id).status == ChargeStatus.SUCCEEDED


def test_a_sepa_debit_succeeds_is_reported_by_a_signed_webhook_and_can_be_debited_again(
    gateway: StripeGateway, inbox: WebhookInbox, stripe_api: stripe.StripeClient, customer: str
) -> None:
    iban = "DE89 3704 0044 0532 0130 00"
    result = gateway.charge(request(bank_account=bank_account(iban), customer_id=customer, save_method=True))

    assert result.status in (ChargeStatus.SUCCEEDED, ChargeStatus.PROCESSING)  # localstripe settles at once
    method = result.method
    assert (method.kind, method.brand, method.last4, method.holder_name) == (
        MethodKind.BANK_ACCOUNT,
        "SEPA Direct Debit",
        "3000",
        "Ada Lovelace",
    )
    assert result.saved
    held = stripe_api.v1.payment_methods.retrieve(method.gateway_method_id)
    assert (held.type, held.customer, held.billing_details.email) == (
        "sepa_debit",
        customer,
        "ada@example.com",
    )
    event = gateway.parse_webhook(*inbox.wait_for("payment_intent.succeeded", result.gateway_payment_id))
    assert (event.kind, event.event_type) == (WebhookKind.PAYMENT, "payment_intent.succeeded")
    assert event.event_id.startswith("evt_")
    assert event.charge is not None
    assert (event.charge.gateway_payment_id, event.charge.status) == (result.gateway_payment_id, "succeeded")
    assert event.charge.method.gateway_method_id == method.gateway_method_id
    again = gateway.charge(request(saved_method_id=method.gateway_method_id, customer_id=customer))
    assert again.status in (ChargeStatus.SUCCEEDED, ChargeStatus.PROCESSING)
    assert again.method.kind == MethodKind.BANK_ACCOUNT


def test_a_sepa_debit_that_bounces_is_processing_until_a_webhook_reports_the_failure(
    gateway: StripeGateway, inbox: WebhookInbox, customer: str
) -> None:
    result = gateway.charge(request(bank_account=bank_account(IBAN_BOUNCES), customer_id=customer))

    assert result.status == ChargeStatus.PROCESSING
    assert not result.saved
    event = gateway.parse_webhook(*inbox.wait_for("payment_intent.payment_failed", result.gateway_payment_id))
    assert event.kind == WebhookKind.PAYMENT
    assert event.charge is not None
    assert event.charge.status == ChargeStatus.FAILED
    assert event.charge.failure_message  # localstripe words a bounced debit as a declined card
    assert event.charge.method.kind == MethodKind.BANK_ACCOUNT
    assert gateway.retrieve(result.gateway_payment_id).status == ChargeStatus.FAILED


def test_refund_pays_back_part_of_a_charge(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, browser_card: Callable[[str], str]
) -> None:
    paid = gateway.charge(
        request(amount_minor=1234, payment_method_id=browser_card(VISA), customer_id=customer)
    )

    refund = gateway.refund(paid.gateway_payment_id, 234, "refund_1")

    assert refund.succeeded
    assert refund.gateway_refund_id.startswith("re_")
    held = stripe_api.v1.refunds.retrieve(refund.gateway_refund_id)
    assert (held.amount, held.payment_intent) == (234, paid.gateway_payment_id)


def test_refunding_a_failed_payment_is_refused_with_nothing_refunded(
    gateway: StripeGateway, customer: str, browser_card: Callable[[str], str]
) -> None:
    failed = gateway.charge(request(payment_method_id=browser_card(DECLINED_ON_CHARGE), customer_id=customer))

    with pytest.raises(InvalidPaymentDetails, match="nothing was refunded") as refused:
        gateway.refund(failed.gateway_payment_id, 100, "refund_2")
    assert refused.value.field == "gateway"


def test_update_method_changes_expiry_holder_and_address(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, browser_card: Callable[[str], str]
) -> None:
    card_id = browser_card(VISA)

    updated = gateway.update_method(card_id, MethodUpdate(3, 2031, "Ada King", ADDRESS))

    assert (updated.exp_month, updated.exp_year, updated.holder_name) == (3, 2031, "Ada King")
    assert updated.billing_address == ADDRESS
    assert (updated.brand, updated.last4) == ("Visa", "4242")
    held = stripe_api.v1.payment_methods.retrieve(card_id)
    assert held.billing_details.to_dict() == {
        "name": "Ada King",
        "address": {
            "line1": "1 Main St",
            "line2": "Floor 2",
            "city": "Berlin",
            "state": "BE",
            "postal_code": "10115",
            "country": "DE",
        },
    }
    card = held.to_dict()["card"]
    assert (str(card["exp_month"]), str(card["exp_year"])) == ("3", "2031")  # localstripe keeps them as text
    assert gateway.charge(request(payment_method_id=card_id, customer_id=customer)).status == "succeeded"


@pytest.mark.parametrize(
    ("month", "year", "words"),
    [(13, 2030, "between 1 and 12"), (0, 2030, "between 1 and 12"), (5, 2026, "past")],
)
def test_update_method_refuses_an_impossible_expiry(
    gateway: StripeGateway, browser_card: Callable[[str], str], month: int, year: int, words: str
) -> None:
    with pytest.raises(InvalidPaymentDetails, match=words) as refused:
        gateway.update_method(browser_card(VISA), MethodUpdate(month, year, "Ada", ADDRESS))
    assert refused.value.field == "expiry"


def test_a_removed_method_can_no_longer_be_charged(
    gateway: StripeGateway, stripe_api: stripe.StripeClient, customer: str, browser_card: Callable[[str], str]
) -> None:
    card_id = browser_card(VISA)
    gateway.charge(request(payment_method_id=card_id, customer_id=customer, save_method=True))

    gateway.remove_method(card_id)
    gateway.remove_method(card_id)  # twice is harmless

    assert stripe_api.v1.payment_methods.retrieve(card_id).customer is None
    with pytest.raises(InvalidPaymentDetails, match="no longer available") as refused:
        gateway.charge(request(saved_method_id=card_id, customer_id=customer))
    assert refused.value.field == "method"


@pytest.fixture
def unreachable() -> StripeGateway:
    """Nothing listens at its API: a request it sends is answered by no one."""
    return StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, f"http://127.0.0.1:{closed_port()}")


@pytest.mark.parametrize(
    ("account", "field", "words"),
    [
        (bank_account(mandate_accepted=False), "mandate", "Accept the direct debit mandate"),
        (bank_account("DE00370400440532013000"), "iban", "check digits are wrong"),
        (bank_account("DE8937040044053201300"), "iban", "not a valid IBAN"),
        (bank_account(holder_name="  "), "holder_name", "holder's name"),
    ],
)
def test_bad_bank_details_are_refused_before_stripe_is_asked(
    unreachable: StripeGateway, account: BankAccountDetails, field: str, words: str
) -> None:
    with pytest.raises(InvalidPaymentDetails, match=words) as refused:
        unreachable.charge(request(bank_account=account, customer_id="cus_x"))
    assert refused.value.field == field


def test_raw_card_numbers_are_refused(unreachable: StripeGateway) -> None:
    card = CardDetails(VISA, 12, 2030, "123", "Ada Lovelace")

    with pytest.raises(InvalidPaymentDetails, match="secure card form") as refused:
        unreachable.charge(request(card=card, customer_id="cus_x"))

    assert refused.value.field == "card_number"
    assert VISA not in str(refused.value)


def test_no_answer_before_the_charge_means_nothing_was_charged(unreachable: StripeGateway) -> None:
    with pytest.raises(InvalidPaymentDetails, match="could not be reached; nothing was charged") as refused:
        unreachable.charge(request(saved_method_id="pm_saved", customer_id="cus_x"))
    assert refused.value.field == "gateway"
    with using_language("de"):  # one whole sentence, in the customer's language
        shown = human_message(refused.value)
    assert shown.startswith("Der Zahlungsdienst war nicht erreichbar; es wurde nichts belastet.")


class LosesConfirmAnswers:
    """A proxy to localstripe that passes every request on, but hangs up instead of answering a confirmation:
    the charge is made and the answer is lost on the way back."""

    def __init__(self, upstream: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.forward()

            def do_POST(self) -> None:
                self.forward()

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
                headers = {name: value for name, value in self.headers.items() if name.lower() != "host"}
                forwarded = urllib.request.Request(  # noqa: S310 - loopback
                    upstream + self.path, body, headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(forwarded, timeout=5) as answer:  # noqa: S310 - loopback
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as refusal:
                    status, payload = refusal.code, refusal.read()
                if self.path.endswith("/confirm"):
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_lost_answer_to_the_charge_is_gateway_unavailable_and_retrieve_tells_the_outcome(
    gateway: StripeGateway, localstripe: LocalStripe, customer: str, browser_card: Callable[[str], str]
) -> None:
    proxy = LosesConfirmAnswers(localstripe.api_base)
    try:
        lossy = StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, proxy.url)
        with pytest.raises(GatewayUnavailable) as unknown:
            lossy.charge(request(payment_method_id=browser_card(VISA), customer_id=customer))
    finally:
        proxy.close()

    assert unknown.value.gateway_payment_id.startswith("pi_")
    assert gateway.retrieve(unknown.value.gateway_payment_id).status == ChargeStatus.SUCCEEDED


def test_no_answer_to_a_refund_leaves_it_unknown(unreachable: StripeGateway) -> None:
    with pytest.raises(GatewayUnavailable) as unknown:
        unreachable.refund("pi_1", 100, "refund_3")
    assert unknown.value.operation == "refund"


def intent_event(event_type: str, **intent: Any) -> dict[str, Any]:
    obj = {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "payment_method": "pm_1"}
    return {"id": "evt_1", "object": "event", "type": event_type, "data": {"object": obj | intent}}


def test_a_signed_payment_webhook_reports_the_charge(gateway: StripeGateway) -> None:
    event = intent_event(
        "payment_intent.payment_failed",
        status="requires_payment_method",
        payment_method_types=["sepa_debit"],
        last_payment_error={"code": "insufficient_funds", "message": "The account has insufficient funds."},
    )

    parsed = gateway.parse_webhook(*signed(event))

    assert (parsed.event_id, parsed.event_type, parsed.kind) == (
        "evt_1",
        "payment_intent.payment_failed",
        "payment",
    )
    assert parsed.charge is not None
    assert (parsed.charge.gateway_payment_id, parsed.charge.status) == ("pi_1", ChargeStatus.FAILED)
    assert parsed.charge.failure_message == "The account has insufficient funds."
    assert (parsed.charge.method.gateway_method_id, parsed.charge.method.kind) == ("pm_1", "bank_account")


def test_a_signed_refund_webhook_reports_the_latest_refund(gateway: StripeGateway) -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_1",
        "refunds": {
            "object": "list",
            "data": [
                {"id": "re_old", "object": "refund", "amount": 100, "status": "succeeded", "created": 1},
                {"id": "re_new", "object": "refund", "amount": 250, "status": "pending", "created": 2},
            ],
        },
    }
    event = {"id": "evt_2", "object": "event", "type": "charge.refunded", "data": {"object": charge}}

    parsed = gateway.parse_webhook(*signed(event))

    assert parsed.kind == WebhookKind.REFUND
    assert parsed.refund is not None
    assert (parsed.refund.gateway_refund_id, parsed.refund.succeeded) == ("re_new", True)
    assert (parsed.refunded_payment_id, parsed.refund_amount_minor) == ("pi_1", 250)


def test_a_failed_refund_webhook_says_why(gateway: StripeGateway) -> None:
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 500,
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "payment_intent": "pi_9",
    }
    event = {"id": "evt_3", "object": "event", "type": "refund.updated", "data": {"object": refund}}

    parsed = gateway.parse_webhook(*signed(event))

    assert parsed.kind == WebhookKind.REFUND
    assert parsed.refund is not None
    assert not parsed.refund.succeeded
    assert parsed.refund.failure_message == "The card was canceled or has expired."
    assert (parsed.refunded_payment_id, parsed.refund_amount_minor) == ("pi_9", 500)


def test_other_webhooks_are_recorded_as_seen(gateway: StripeGateway) -> None:
    event = {
        "id": "evt_4",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1"}},
    }

    parsed = gateway.parse_webhook(*signed(event))

    assert (parsed.event_id, parsed.event_type, parsed.kind) == (
        "evt_4",
        "customer.created",
        WebhookKind.OTHER,
    )
    assert parsed.charge is None
    assert parsed.refund is None


def test_webhooks_with_a_wrong_signature_or_a_changed_body_are_refused(gateway: StripeGateway) -> None:
    payload, header = signed(intent_event("payment_intent.succeeded"))
    _, foreign = signed(intent_event("payment_intent.succeeded"), secret="whsec_someone_else")
    tampered = payload.replace(b'"succeeded"', b'"processing"')
    assert tampered != payload

    for body, signature in [(payload, foreign), (tampered, header), (payload, ""), (payload, "garbage")]:
        with pytest.raises(InvalidWebhook):
            gateway.parse_webhook(body, signature)


def test_a_signed_body_that_is_not_json_is_refused(gateway: StripeGateway) -> None:
    header = stripe.WebhookSignature.generate_signature_header("not json", WEBHOOK_SECRET)

    with pytest.raises(InvalidWebhook):
        gateway.parse_webhook(b"not json", header)


def test_no_log_line_carries_an_iban_even_at_debug_level(
    gateway: StripeGateway, customer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway.charge(request(bank_account=bank_account(IBAN_SETTLES), customer_id=customer))
    with pytest.raises(InvalidPaymentDetails):
        gateway.charge(request(bank_account=bank_account("DE89370400440532013001"), customer_id=customer))
    assert caplog.records, "the SDK logs its requests at debug level"
    assert IBAN_SETTLES not in caplog.text
    assert "DE89370400440532013001" not in caplog.text
