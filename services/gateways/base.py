"""The gateway protocol: dataclass requests in, dataclass results out; no gateway SDK type leaks out.

Card numbers and CVCs pass through a request to the gateway and nowhere else: they are never stored
or logged. What comes back and may be stored is the gateway's ids and the display facts (brand, last
four digits, expiry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from services.errors import InvalidPaymentDetails  # noqa: F401 - part of the gateway interface


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PROCESSING = "processing"  # accepted; the money settles later (bank debits)
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
    customer_id: str | None = None
    save_method: bool = False


@dataclass(frozen=True)
class MethodInfo:
    """What may be stored and shown of a card or account."""

    gateway_method_id: str
    kind: MethodKind
    brand: str
    last4: str
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class ChargeResult:
    gateway_payment_id: str
    status: ChargeStatus
    method: MethodInfo
    saved: bool = False
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class RefundResult:
    gateway_refund_id: str
    succeeded: bool
    failure_message: str = ""


@runtime_checkable
class PaymentGateway(Protocol):
    name: str
    is_sandbox: bool

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a new card or account, or a saved method; may return PROCESSING for bank debits."""
        ...

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        """The current state of a charge, for settling PROCESSING ones."""
        ...

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        """Pay back part or all of a succeeded charge."""
        ...
