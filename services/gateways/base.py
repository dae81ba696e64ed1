"""The gateway protocol: dataclass requests in, dataclass results out; no gateway SDK type leaks out.

Card numbers and CVCs pass through a request to the gateway and nowhere else: they are never stored
or logged. What comes back and may be stored is the gateway's ids and the display facts (brand, last
four digits, expiry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from services.errors import InvalidPaymentDetails  # noqa: F401 - part of the gateway interface


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"  # accepted; the money settles later (bank debits)
    REQUIRES_ACTION = "requires_action"  # the customer must authenticate (3-D Secure) in the browser
    FAILED = "failed"


class MethodKind(StrEnum):
    CARD = "card"
    BANK_ACCOUNT = "bank_account"


@dataclass(frozen=True)
class BillingAddress:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166 alpha-2


@dataclass(frozen=True, repr=False)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder_name: str
    billing_address: BillingAddress = field(default_factory=BillingAddress)

    def __repr__(self) -> str:  # never print a card number or CVC, not even in a traceback
        return (
            f"CardDetails(last4={self.number.replace(' ', '')[-4:]!r}, exp={self.exp_month}/{self.exp_year})"
        )


@dataclass(frozen=True)
class BankAccountDetails:
    holder_name: str
    iban: str
    email: str
    mandate_accepted: bool


@dataclass(frozen=True)
class ChargeRequest:
    idempotency_key: str  # our payment attempt's id: a retried request never charges twice
    amount_minor: int
    currency: str
    description: str
    card: CardDetails | None = None
    bank_account: BankAccountDetails | None = None
    saved_method_id: str | None = None
    # A card the browser set up with the gateway's own form (Stripe.js); the number never reached us.
    payment_method_id: str | None = None
    customer_id: str | None = None
    save_method: bool = False
    # The customer is not there (auto-pay): a charge that would need them, such as a 3-D Secure
    # challenge, fails at once instead of waiting for an answer nobody is present to give.
    off_session: bool = False


@dataclass(frozen=True)
class MethodInfo:
    """What may be stored and shown of a card or account."""

    gateway_method_id: str
    kind: MethodKind
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None
    holder_name: str = ""
    billing_address: BillingAddress = field(default_factory=BillingAddress)


@dataclass(frozen=True)
class MethodUpdate:
    """What a customer may change on a saved card: never its number."""

    exp_month: int
    exp_year: int
    holder_name: str
    billing_address: BillingAddress


@dataclass(frozen=True)
class ChargeResult:
    gateway_payment_id: str
    status: ChargeStatus
    method: MethodInfo
    saved: bool = False
    failure_code: str = ""
    failure_message: str = ""
    client_secret: str = ""  # REQUIRES_ACTION: the browser completes the challenge with it
    # Our payment's id as the gateway keeps it (the request's idempotency key, in its metadata), so an
    # answer about a charge we never learnt the gateway's id of still finds its attempt.
    reference: str = ""


@dataclass(frozen=True)
class ChargeQuery:
    """What identifies an attempt to the gateway when we never heard its answer."""

    idempotency_key: str  # our payment's public id
    customer_id: str  # the gateway's customer the attempt charged, if any
    attempted_at: datetime


@dataclass(frozen=True)
class CardSetup:
    """What the browser needs to collect a card with the gateway's form (Stripe.js ``confirmCardSetup``)."""

    client_secret: str
    publishable_key: str
    js_url: str


class WebhookKind(StrEnum):
    PAYMENT = "payment"  # a charge settled, failed or is processing: ``charge`` says which
    REFUND = "refund"  # a refund was paid out (or failed): ``refund`` says which
    OTHER = "other"  # recorded as seen, nothing to book


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    kind: WebhookKind
    charge: ChargeResult | None = None
    refund: RefundResult | None = None
    refunded_payment_id: str = ""  # the gateway payment a refund belongs to
    refund_amount_minor: int = 0


@dataclass(frozen=True)
class RefundResult:
    gateway_refund_id: str
    succeeded: bool
    failure_message: str = ""


class InvalidWebhook(Exception):
    """A webhook whose signature or body does not check out: answered with 400, nothing recorded."""


@runtime_checkable
class PaymentGateway(Protocol):
    name: str
    is_sandbox: bool
    collects_cards_in_browser: bool  # True: card numbers go to the gateway's form, never to our server
    # The account at the gateway that charges are made in (a fingerprint of its keys): only this account
    # can say that an attempt made with it was never charged.
    account: str

    def accepts_bank_debits(self, currency: str) -> bool:
        """Whether a bank account can be debited in this currency (SEPA: euros only)."""
        ...

    def ensure_customer(self, customer_id: str, *, email: str, name: str) -> str:
        """The gateway's customer for a client: ``customer_id`` if it is set, otherwise a new one."""
        ...

    def start_card_setup(self, customer_id: str) -> CardSetup:
        """Begin collecting a new card in the browser (a SetupIntent on Stripe)."""
        ...

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a new card or account, or a saved method; may return PROCESSING for bank debits."""
        ...

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        """The current state of a charge, for settling PROCESSING ones."""
        ...

    def find_charge(self, query: ChargeQuery) -> ChargeResult | None:
        """The charge made for our attempt ``query.idempotency_key``, or None if the gateway has none.

        This is how an attempt whose answer was lost (the process killed, the database failing while
        booking) is found from our side alone.
        """
        ...

    def close_attempt(self, query: ChargeQuery) -> ChargeResult | None:
        """Make sure no charge is made for this attempt from now on; the charge if one was made after all.

        Called once an unanswered attempt is old enough that no request for it can still be under way.
        """
        ...

    def cancel(self, gateway_payment_id: str) -> ChargeResult:
        """Stop a charge still waiting for the customer (an abandoned 3-D Secure challenge); returns its
        final state, which is SUCCEEDED if the customer completed it after all."""
        ...

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        """Pay back part or all of a succeeded charge."""
        ...

    def update_method(self, gateway_method_id: str, update: MethodUpdate) -> MethodInfo:
        """Change a saved card's expiry, holder name or billing address; returns what is now stored."""
        ...

    def remove_method(self, gateway_method_id: str) -> None:
        """Detach a saved card or account so it can no longer be charged."""
        ...

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        """Check a webhook's signature and say what it reports; raises ``InvalidWebhook``."""
        ...
