"""The Stripe gateway: cards typed into Stripe.js (a SetupIntent), SEPA debits, refunds and webhooks.

A charge is one PaymentIntent, created and then confirmed as two requests so that its id is known even
when the confirmation is declined. Every request that moves money carries an idempotency key derived from
our attempt's id, so a retried charge or refund replays Stripe's first answer instead of paying twice.

The tests run this against localstripe, which refuses any parameter it does not know. Against any server
but api.stripe.com, ``_dialect`` leaves out what it lacks (the PaymentIntent's ``description``, the SEPA
mandate, ``setup_future_usage``, ``off_session``) and uses the older name ``payment_method_types``
for ``allowed_payment_method_types``. Stripe itself always gets everything.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import stripe
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException
from stripe.params import (
    PaymentIntentConfirmParams,
    PaymentIntentCreateParams,
    PaymentMethodCreateParamsBillingDetails,
    PaymentMethodUpdateParams,
    PaymentMethodUpdateParamsCard,
    SetupIntentCreateParams,
)

from services.clock import Clock, utc_now
from services.errors import GatewayUnavailable
from services.gateways.base import (
    BillingAddress,
    CardSetup,
    ChargeQuery,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    InvalidPaymentDetails,
    InvalidWebhook,
    MethodInfo,
    MethodKind,
    MethodUpdate,
    RefundResult,
    WebhookEvent,
    WebhookKind,
)
from services.i18n import N_

P = TypeVar("P", bound=Mapping[str, Any])

STRIPE_API_BASE = "https://api.stripe.com"
STRIPE_JS_URL = "https://js.stripe.com/v3/"
LOCALSTRIPE_LACKS = {"description", "mandate_data", "setup_future_usage", "off_session"}
SEPA_BRAND = "SEPA Direct Debit"
DECLINED = "Your card was declined."
AUTHENTICATION_REQUIRED = "Your bank asked to confirm this payment, which an automatic payment cannot do."
# What a request Stripe refused (True) or did not answer (False) left undone, by what it was for; whole
# sentences, marked for the catalogues and translated where they are shown (``human_message``).
NOTHING_DONE = {
    ("saved", True): N_("The payment service could not do this; nothing was saved. Please try again."),
    ("saved", False): N_("The payment service could not be reached; nothing was saved. Please try again."),
    ("charged", True): N_("The payment service could not do this; nothing was charged. Please try again."),
    ("charged", False): N_(
        "The payment service could not be reached; nothing was charged. Please try again."
    ),
    ("changed", True): N_("The payment service could not do this; nothing was changed. Please try again."),
    ("changed", False): N_(
        "The payment service could not be reached; nothing was changed. Please try again."
    ),
    ("refunded", True): N_("The payment service could not do this; nothing was refunded. Please try again."),
    ("refunded", False): N_(
        "The payment service could not be reached; nothing was refunded. Please try again."
    ),
}
# One request waits at most this long (the SDK's default is 80 s); with its retries, a charge's requests
# are over within a few minutes, well inside the time reconciliation waits before closing an attempt.
REQUEST_TIMEOUT_SECONDS = 30
# An attempt's PaymentIntent is created after the attempt is stored; its clock may differ from ours.
CLOCK_SKEW_SECONDS = 600
CLOSING_AMOUNT = 100  # of the PaymentIntent that takes a closed attempt's key; it is never confirmed
PAYMENT_EVENTS = {
    "payment_intent.succeeded",
    "payment_intent.processing",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
}
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
CARD_BRANDS = {
    "amex": "American Express",
    "cartes_bancaires": "Cartes Bancaires",
    "diners": "Diners Club",
    "eftpos_au": "eftpos",
    "jcb": "JCB",
    "mastercard": "Mastercard",
    "unionpay": "UnionPay",
    "visa": "Visa",
}
REFUND_FAILURES = {
    "charge_for_pending_refund_disputed": "The payment is disputed, so it cannot be refunded now.",
    "declined": "The bank declined the refund.",
    "expired_or_canceled_card": "The card was canceled or has expired.",
    "insufficient_funds": "There were not enough funds to pay the refund.",
    "lost_or_stolen_card": "The card was reported lost or stolen.",
    "merchant_request": "The refund was canceled.",
}

_log = logging.getLogger(__name__)

# The SDK logs every request body at debug level, and a SEPA method's body carries the full IBAN (the
# only account or card data that passes through this server). Blank it in the SDK's log records, and
# never let the SDK print request bodies to the console itself.
_SECRETS_IN_BODY = re.compile(r"((?:iban|number|cvc)(?:\]|%5D)=)[^&\s']+", re.IGNORECASE)


class _RedactAccountData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _SECRETS_IN_BODY.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


logging.getLogger("stripe").addFilter(_RedactAccountData())
if (stripe.log or os.environ.get("STRIPE_LOG", "")).lower() == "debug":
    stripe.log = "info"


class StripeGateway:
    name = "stripe"
    is_sandbox = False
    collects_cards_in_browser = True

    def __init__(
        self,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str = STRIPE_API_BASE,
        js_url: str = STRIPE_JS_URL,
        *,
        clock: Clock = utc_now,
    ) -> None:
        api_base = api_base or STRIPE_API_BASE
        self.publishable_key = publishable_key
        self.js_url = js_url or STRIPE_JS_URL
        self.clock = clock
        self._webhook_secret = webhook_secret
        # Retries reuse the idempotency key, so a request lost on the wire is not carried out twice.
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base},
            max_network_retries=2,
            http_client=stripe.new_default_http_client(timeout=REQUEST_TIMEOUT_SECONDS),
        )
        self._real_stripe = urlparse(api_base).hostname == urlparse(STRIPE_API_BASE).hostname
        mode = "live" if "_live_" in secret_key else "test"
        self.account = f"{mode}:{hashlib.sha256(secret_key.encode()).hexdigest()[:16]}"

    def accepts_bank_debits(self, currency: str) -> bool:
        return currency.upper() == "EUR"  # SEPA Direct Debit

    def ensure_customer(self, customer_id: str, *, email: str, name: str) -> str:
        if customer_id:
            return customer_id
        with _stripe_errors("customer", "saved"):
            customer = self._client.v1.customers.create(params={"email": email, "name": name})
        return str(customer.id)

    def start_card_setup(self, customer_id: str) -> CardSetup:
        with _stripe_errors("card setup", "saved"):
            params: SetupIntentCreateParams = {
                "customer": customer_id,
                "allowed_payment_method_types": ["card"],
                "usage": "off_session",
            }
            intent = self._client.v1.setup_intents.create(params=self._dialect(params))
        return CardSetup(str(intent.client_secret), self.publishable_key, self.js_url)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a saved method, a card set up in the browser or a new bank account.

        A decline is an answer (FAILED with Stripe's message), not an error. Raw card numbers are refused:
        with Stripe they are typed into Stripe.js and never reach this server.
        """
        if request.amount_minor <= 0:
            raise InvalidPaymentDetails("amount", "The amount must be more than zero.")
        if request.card is not None:
            raise InvalidPaymentDetails(
                "card_number", "Card numbers are entered in the secure card form, never sent to us."
            )
        iban = _checked_iban(request) if request.bank_account is not None else ""
        if not (request.saved_method_id or request.payment_method_id or iban):
            raise InvalidPaymentDetails("method", "Choose a card or a bank account.")
        method: Any = None
        intent_id = ""
        key = request.idempotency_key
        try:
            with _stripe_errors("payment", "charged", declines=True):  # nothing here takes money
                method = self._method_to_charge(request, iban)
                create, confirm = self._intent_params(request, method)
                intent = self._client.v1.payment_intents.create(
                    params=create, options={"idempotency_key": f"{key}:create"}
                )
            intent_id = str(intent.id)
            with _stripe_errors("payment", "charged", declines=True, moves_money=True, payment_id=intent_id):
                intent = self._client.v1.payment_intents.confirm(
                    intent_id, params=confirm, options={"idempotency_key": f"{key}:confirm"}
                )
        except stripe.CardError as decline:
            info = _method_info(method) if method is not None else _bare_method(request.payment_method_id)
            return ChargeResult(
                intent_id,
                ChargeStatus.FAILED,
                info,
                failure_code=decline.code or "card_declined",
                failure_message=decline.user_message or DECLINED,
            )
        result = _charge_result(intent, _method_info(method))
        if request.off_session and result.status == ChargeStatus.REQUIRES_ACTION:
            # What Stripe answers an off-session charge that needs the customer; a server that does not
            # know off_session (localstripe) leaves a challenge waiting instead, cancelled here.
            cancelled = self.cancel(intent_id)
            if cancelled.status == ChargeStatus.FAILED:
                return replace(
                    cancelled, failure_code="authentication_required", failure_message=AUTHENTICATION_REQUIRED
                )
            return cancelled  # the challenge was answered meanwhile after all: its outcome stands
        return result

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        with _stripe_errors("payment status", "changed"):
            intent = self._client.v1.payment_intents.retrieve(
                gateway_payment_id, params={"expand": ["payment_method"]}
            )
        return _charge_result(intent, _intent_method(intent))

    def find_charge(self, query: ChargeQuery) -> ChargeResult | None:
        """Our attempt's PaymentIntent, found by the payment id ``charge`` put in its metadata.

        Listing the customer's PaymentIntents since the attempt is strongly consistent, unlike Stripe's
        search. localstripe filters lists by nothing, so there every PaymentIntent is looked at.
        """
        params: dict[str, Any] = {"limit": 100}
        if self._real_stripe:
            params["created"] = {"gte": int(query.attempted_at.timestamp()) - CLOCK_SKEW_SECONDS}
            if query.customer_id:
                params["customer"] = query.customer_id
        with _stripe_errors("payment lookup", "changed"):
            intents = self._client.v1.payment_intents.list(params=cast(Any, params))
            for intent in intents.auto_paging_iter():
                if _field(_field(intent, "metadata"), "payment_id") == query.idempotency_key:
                    return self.retrieve(str(intent.id))
        return None

    def close_attempt(self, query: ChargeQuery) -> ChargeResult | None:
        """Spend the attempt's idempotency key for creating its PaymentIntent on a PaymentIntent of our own,
        cancelled at once and never confirmed: a request of the attempt still on its way (a process that
        stalled) then gets Stripe's idempotency error instead of creating a charge. If the key was used
        already, the attempt's PaymentIntent exists, and it is what is answered (cancelled first if it
        was never completed, so that it can never be completed later)."""
        found = self.find_charge(query)
        if found is None:
            params: PaymentIntentCreateParams = {
                "amount": CLOSING_AMOUNT,
                "currency": "usd",
                "description": "Closes a payment attempt that never reached Stripe; never confirmed.",
                "metadata": {"closes_payment_id": query.idempotency_key},
            }
            key = f"{query.idempotency_key}:create"
            try:
                with _stripe_errors("payment closing", "changed"):
                    closing = self._client.v1.payment_intents.create(
                        params=self._dialect(params), options={"idempotency_key": key}
                    )
                    self.cancel(str(closing.id))
                    return None
            except InvalidPaymentDetails as error:
                if not isinstance(error.__cause__, stripe.IdempotencyError):
                    raise
            found = self.find_charge(query)  # the key was the attempt's own: its PaymentIntent exists
            if found is None:
                raise GatewayUnavailable("payment closing")  # not listed yet: ask again next round
        if found.status in (ChargeStatus.FAILED, ChargeStatus.REQUIRES_ACTION):
            return self.cancel(found.gateway_payment_id)
        return found

    def cancel(self, gateway_payment_id: str) -> ChargeResult:
        with _stripe_errors("payment cancellation", "changed"):
            intent = self._client.v1.payment_intents.retrieve(gateway_payment_id)
            if intent.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
                self._client.v1.payment_intents.cancel(
                    gateway_payment_id, options={"idempotency_key": f"{gateway_payment_id}:cancel"}
                )
        return self.retrieve(gateway_payment_id)

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        if amount_minor <= 0:
            raise InvalidPaymentDetails("amount", "The amount must be more than zero.")
        with _stripe_errors("refund", "refunded", moves_money=True):
            refund = self._client.v1.refunds.create(
                params={
                    "payment_intent": gateway_payment_id,
                    "amount": amount_minor,
                    "metadata": {"refund_id": idempotency_key},
                },
                options={"idempotency_key": f"{idempotency_key}:refund"},
            )
        return _refund_result(refund)

    def update_method(self, gateway_method_id: str, update: MethodUpdate) -> MethodInfo:
        now = self.clock()
        if not 1 <= update.exp_month <= 12:
            raise InvalidPaymentDetails("expiry", "The expiry month must be between 1 and 12.")
        if (update.exp_year, update.exp_month) < (now.year, now.month):
            raise InvalidPaymentDetails("expiry", "The expiry date is in the past.")
        address = update.billing_address
        params: PaymentMethodUpdateParams = {
            "card": {"exp_month": update.exp_month, "exp_year": update.exp_year},
            "billing_details": {
                "name": update.holder_name,
                "address": {
                    "line1": address.line1,
                    "line2": address.line2,
                    "city": address.city,
                    "state": address.region,
                    "postal_code": address.postal_code,
                    "country": address.country,
                },
            },
        }
        with _stripe_errors("card update", "changed"):
            current = self._find_method(gateway_method_id)
            if current is None or current.type != "card":
                raise InvalidPaymentDetails("method", "Only a saved card's details can be changed here.")
            if not self._real_stripe:  # localstripe replaces the whole card with what is sent: send it all
                params["card"] = cast(PaymentMethodUpdateParamsCard, current.card.to_dict() | params["card"])
            updated = self._client.v1.payment_methods.update(gateway_method_id, params=params)
        return _method_info(updated)

    def remove_method(self, gateway_method_id: str) -> None:
        with _stripe_errors("removal", "changed"):
            method = self._find_method(gateway_method_id)
            if method is not None and method.customer:  # already detached or gone: nothing left to do
                self._client.v1.payment_methods.detach(gateway_method_id)

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        try:
            event = self._client.construct_event(payload, signature_header, self._webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidWebhook(f"{type(error).__name__}: {str(error)[:200]}") from None
        event_id, event_type = str(event.id), str(event.type)
        target = event.data.object
        if event_type in PAYMENT_EVENTS:
            charge = _charge_result(target, _intent_method(target))
            return WebhookEvent(event_id, event_type, WebhookKind.PAYMENT, charge=charge)
        refund = _latest_refund(target) if event_type == "charge.refunded" else None
        if event_type in REFUND_EVENTS:
            refund = target
        if refund is None:
            return WebhookEvent(event_id, event_type, WebhookKind.OTHER)
        return WebhookEvent(
            event_id,
            event_type,
            WebhookKind.REFUND,
            refund=_refund_result(refund),
            refunded_payment_id=_id(_field(refund, "payment_intent") or _field(target, "payment_intent")),
            refund_amount_minor=int(_field(refund, "amount") or 0),
        )

    def _method_to_charge(self, request: ChargeRequest, iban: str) -> Any:
        """The PaymentMethod to charge, attached to the customer when it is to be kept."""
        key, customer = request.idempotency_key, request.customer_id
        if request.saved_method_id:
            method = self._find_method(request.saved_method_id)
            if method is None or not method.customer or (customer and method.customer != customer):
                raise InvalidPaymentDetails(
                    "method", "This saved payment method is no longer available; please choose another."
                )
            return method
        if request.payment_method_id:
            method = self._find_method(request.payment_method_id)
            foreign = method is not None and customer and method.customer not in (None, customer)
            if method is None or method.type != "card" or foreign:
                raise InvalidPaymentDetails("card_number", "This card cannot be used; please enter it again.")
            if method.customer or not customer:
                return method
            # Stripe attached the card when the browser confirmed its SetupIntent; localstripe does not.
            return self._client.v1.payment_methods.attach(
                method.id, params={"customer": customer}, options={"idempotency_key": f"{key}:attach"}
            )
        account = request.bank_account
        assert account is not None  # noqa: S101 - charge() sends only bank requests without a method id
        billing: PaymentMethodCreateParamsBillingDetails = {"name": account.holder_name.strip()}
        if account.email:
            billing["email"] = account.email
        method = self._client.v1.payment_methods.create(
            params={"type": "sepa_debit", "sepa_debit": {"iban": iban}, "billing_details": billing},
            options={"idempotency_key": f"{key}:method"},
        )
        if request.save_method and customer:
            method = self._client.v1.payment_methods.attach(
                method.id, params={"customer": customer}, options={"idempotency_key": f"{key}:attach"}
            )
        return method

    def _intent_params(
        self, request: ChargeRequest, method: Any
    ) -> tuple[PaymentIntentCreateParams, PaymentIntentConfirmParams]:
        """The PaymentIntent's parameters at creation and at confirmation, as Stripe takes them."""
        saving = request.save_method or bool(request.saved_method_id)
        create: PaymentIntentCreateParams = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "payment_method": method.id,
            "allowed_payment_method_types": [method.type],
            "description": request.description,
            # Read back by retrieve() and webhooks, which know nothing of the request.
            "metadata": {
                "payment_id": request.idempotency_key,
                "save_method": "true" if saving else "false",
                "method_type": method.type,
            },
        }
        if request.customer_id:
            create["customer"] = request.customer_id
        confirm: PaymentIntentConfirmParams = {}
        if request.off_session:
            confirm["off_session"] = True  # Stripe declines (authentication_required) what needs the customer
        elif method.type == "sepa_debit" and request.saved_method_id:
            confirm["off_session"] = True  # debited under the mandate accepted when it was saved
        elif method.type == "sepa_debit":
            if request.save_method:
                create["setup_future_usage"] = "off_session"  # a mandate for later debits, not just this one
            # The request carries no IP address or user agent, which an "online" acceptance needs; the
            # customer ticked the mandate in our form just now, recorded as accepted at this time.
            accepted_at = int(self.clock().timestamp())
            confirm["mandate_data"] = {
                "customer_acceptance": {"type": "offline", "offline": {}, "accepted_at": accepted_at}
            }
        return self._dialect(create), self._dialect(confirm)

    def _dialect(self, params: P) -> P:
        """``params`` as the server takes them: localstripe refuses what it does not know (see the top)."""
        if self._real_stripe:
            return params
        kept = {name: value for name, value in params.items() if name not in LOCALSTRIPE_LACKS}
        if "allowed_payment_method_types" in kept:
            kept["payment_method_types"] = kept.pop("allowed_payment_method_types")
        return cast(P, kept)

    def _find_method(self, gateway_method_id: str) -> Any | None:
        """The PaymentMethod, or None if Stripe knows no such id."""
        try:
            return self._client.v1.payment_methods.retrieve(gateway_method_id)
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return None
            raise


@contextmanager
def _stripe_errors(
    operation: str, undone: str, *, moves_money: bool = False, declines: bool = False, payment_id: str = ""
) -> Iterator[None]:
    """Turn Stripe's errors into ours; ``undone`` words what did not happen ("charged", "refunded").

    A 4xx answer means Stripe refused and did nothing, so the customer may simply try again. No answer, or
    a 5xx, leaves it unknown whether Stripe acted: for a request that ``moves_money`` that is
    ``GatewayUnavailable``; for any other, trying again is harmless. Declines pass through when
    ``declines`` is set, for the caller to answer with a FAILED charge.
    """
    try:
        yield
    except stripe.CardError as error:
        if declines:
            raise
        raise InvalidPaymentDetails("card_number", error.user_message or DECLINED) from error
    except stripe.StripeError as error:
        _log.warning(
            "Stripe %s request failed: %s %s (code %s, request %s): %s",
            operation,
            type(error).__name__,
            error.http_status,
            error.code,
            error.request_id,
            error.user_message,
        )
        # 409: the same key's first request is still being carried out, so what it did is not known yet.
        status = error.http_status
        refused = status is not None and 400 <= status < 500 and status != 409
        if moves_money and not refused:
            raise GatewayUnavailable(operation, payment_id) from error
        raise InvalidPaymentDetails("gateway", NOTHING_DONE[undone, refused]) from error


def _checked_iban(request: ChargeRequest) -> str:
    """The account's IBAN, compact, once the form checks out (the same checks and words as the sandbox)."""
    account = request.bank_account
    assert account is not None  # noqa: S101 - called for bank requests only
    if not account.holder_name.strip():
        raise InvalidPaymentDetails("holder_name", "Enter the account holder's name.")
    try:
        iban = IBAN(account.iban)
    except InvalidChecksumDigits:
        raise InvalidPaymentDetails("iban", "The IBAN's check digits are wrong; please check it.") from None
    except SchwiftyException:
        raise InvalidPaymentDetails("iban", "This is not a valid IBAN.") from None
    if not account.mandate_accepted:
        raise InvalidPaymentDetails("mandate", "Accept the direct debit mandate to pay by bank account.")
    if request.currency.upper() != "EUR":
        raise InvalidPaymentDetails("iban", "Direct debits can only be paid in euros; please pay by card.")
    return str(iban.compact)


def _charge_result(intent: Any, method: MethodInfo) -> ChargeResult:
    """A PaymentIntent as a ChargeResult; ``saved`` comes from the metadata ``charge`` wrote, so it is the
    same whether the answer comes from ``charge``, ``retrieve`` or a webhook."""
    status = intent.status
    metadata = _field(intent, "metadata")
    saved = _field(metadata, "save_method") == "true"
    reference = _text(metadata, "payment_id")
    if status == "succeeded":
        return ChargeResult(intent.id, ChargeStatus.SUCCEEDED, method, saved=saved, reference=reference)
    if status in ("processing", "requires_capture"):
        return ChargeResult(intent.id, ChargeStatus.PROCESSING, method, saved=saved, reference=reference)
    if status == "requires_action":
        return ChargeResult(
            intent.id,
            ChargeStatus.REQUIRES_ACTION,
            method,
            client_secret=intent.client_secret,
            reference=reference,
        )
    error = _field(intent, "last_payment_error")
    if status == "canceled":
        code, message = "canceled", "The payment was canceled."
    else:  # requires_payment_method after a failure; requires_confirmation if never confirmed
        code, message = "payment_failed", "The payment was not completed."
    return ChargeResult(
        intent.id,
        ChargeStatus.FAILED,
        method,
        failure_code=_field(error, "code") or code,
        failure_message=_field(error, "message") or message,
        reference=reference,
    )


def _intent_method(intent: Any) -> MethodInfo:
    """What the PaymentIntent says of its method: all of it if expanded, else the id and kind."""
    method = _field(intent, "payment_method") or _field(
        _field(intent, "last_payment_error"), "payment_method"
    )
    if method is not None and not isinstance(method, str):
        return _method_info(method)
    ours = _field(_field(intent, "metadata"), "method_type")  # localstripe keeps no payment_method_types
    if (ours or (_field(intent, "payment_method_types") or ["card"])[0]) == "sepa_debit":
        return MethodInfo(method or "", MethodKind.BANK_ACCOUNT, SEPA_BRAND, "")
    return MethodInfo(method or "", MethodKind.CARD, "", "")


def _bare_method(method_id: str | None) -> MethodInfo:
    return MethodInfo(method_id or "", MethodKind.CARD, "", "")


def _method_info(method: Any) -> MethodInfo:
    billing = _field(method, "billing_details")
    address = _field(billing, "address")
    holder = _text(billing, "name")
    where = BillingAddress(
        line1=_text(address, "line1"),
        line2=_text(address, "line2"),
        city=_text(address, "city"),
        region=_text(address, "state"),
        postal_code=_text(address, "postal_code"),
        country=_text(address, "country"),
    )
    if method.type == "sepa_debit":
        account = _field(method, "sepa_debit")
        return MethodInfo(
            method.id, MethodKind.BANK_ACCOUNT, SEPA_BRAND, _text(account, "last4"), None, None, holder, where
        )
    card = _field(method, "card")
    brand = _text(card, "brand")
    return MethodInfo(
        method.id,
        MethodKind.CARD,
        CARD_BRANDS.get(brand, brand.replace("_", " ").title()),
        _text(card, "last4"),
        _number(_field(card, "exp_month")),
        _number(_field(card, "exp_year")),
        holder,
        where,
    )


def _refund_result(refund: Any) -> RefundResult:
    status = _field(refund, "status")
    if status in ("succeeded", "pending"):
        return RefundResult(refund.id, succeeded=True)
    message = REFUND_FAILURES.get(_text(refund, "failure_reason"), "The refund did not go through.")
    return RefundResult(refund.id, succeeded=False, failure_message=message)


def _latest_refund(charge: Any) -> Any | None:
    """A ``charge.refunded`` event's newest refund; None when the charge does not list its refunds
    (API versions since 2022-11-15 leave them out; the ``refund.*`` events report each one)."""
    refunds = _field(_field(charge, "refunds"), "data") or []
    return max(refunds, key=lambda refund: _field(refund, "created") or 0, default=None)


def _field(obj: Any, name: str) -> Any:
    """A field of a Stripe object (which is not a dict), or None; None for a missing object too."""
    if obj is None or isinstance(obj, str):
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _text(obj: Any, name: str) -> str:
    value = _field(obj, name)
    return "" if value is None else str(value)


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _id(value: Any) -> str:
    return value if isinstance(value, str) else _text(value, "id")
