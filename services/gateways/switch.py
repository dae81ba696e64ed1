"""The running portal's gateway, which the owner can change in Settings > Payments without a restart.

``Portal`` is built once and shared by every page and route; it holds a ``SwitchableGateway`` that
passes each call on to the gateway chosen last. A call already under way finishes with the gateway it
started with; the next one goes to the new gateway.
"""

from __future__ import annotations

import threading

from services.gateways.base import (
    CardSetup,
    ChargeQuery,
    ChargeRequest,
    ChargeResult,
    MethodInfo,
    MethodUpdate,
    PaymentGateway,
    RefundResult,
    WebhookEvent,
)


class SwitchableGateway:
    """A ``PaymentGateway`` that delegates every call to ``current``, replaced with ``replace``."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self._gateway = gateway
        self._lock = threading.Lock()

    @property
    def current(self) -> PaymentGateway:
        """The gateway calls go to now (for what only one implementation has, like Stripe's keys)."""
        return self._gateway

    def replace(self, gateway: PaymentGateway) -> None:
        """Send every later call to ``gateway``."""
        if isinstance(gateway, SwitchableGateway):
            gateway = gateway.current  # never a chain of switches
        with self._lock:
            self._gateway = gateway

    # The protocol's attributes are read through to the current gateway; setting one sets it there.
    @property
    def name(self) -> str:
        return self._gateway.name

    @name.setter
    def name(self, value: str) -> None:
        self._gateway.name = value

    @property
    def is_sandbox(self) -> bool:
        return self._gateway.is_sandbox

    @is_sandbox.setter
    def is_sandbox(self, value: bool) -> None:
        self._gateway.is_sandbox = value

    @property
    def collects_cards_in_browser(self) -> bool:
        return self._gateway.collects_cards_in_browser

    @collects_cards_in_browser.setter
    def collects_cards_in_browser(self, value: bool) -> None:
        self._gateway.collects_cards_in_browser = value

    @property
    def account(self) -> str:
        return self._gateway.account

    @account.setter
    def account(self, value: str) -> None:
        self._gateway.account = value

    def accepts_bank_debits(self, currency: str) -> bool:
        return self._gateway.accepts_bank_debits(currency)

    def ensure_customer(self, customer_id: str, *, email: str, name: str) -> str:
        return self._gateway.ensure_customer(customer_id, email=email, name=name)

    def start_card_setup(self, customer_id: str) -> CardSetup:
        return self._gateway.start_card_setup(customer_id)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        return self._gateway.charge(request)

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        return self._gateway.retrieve(gateway_payment_id)

    def find_charge(self, query: ChargeQuery) -> ChargeResult | None:
        return self._gateway.find_charge(query)

    def close_attempt(self, query: ChargeQuery) -> ChargeResult | None:
        return self._gateway.close_attempt(query)

    def cancel(self, gateway_payment_id: str) -> ChargeResult:
        return self._gateway.cancel(gateway_payment_id)

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        return self._gateway.refund(gateway_payment_id, amount_minor, idempotency_key)

    def update_method(self, gateway_method_id: str, update: MethodUpdate) -> MethodInfo:
        return self._gateway.update_method(gateway_method_id, update)

    def remove_method(self, gateway_method_id: str) -> None:
        self._gateway.remove_method(gateway_method_id)

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        return self._gateway.parse_webhook(payload, signature_header)


def unwrap(gateway: PaymentGateway) -> PaymentGateway:
    """The gateway behind a ``SwitchableGateway`` (any other gateway is itself)."""
    return gateway.current if isinstance(gateway, SwitchableGateway) else gateway
