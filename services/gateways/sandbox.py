"""The sandbox gateway: in-process, no real money, Stripe's published test cards and two test IBANs.

A charge's outcome is written into the ids it returns (``sbx_card_4242_...``, ``sbx_bank_ok_<settle
time>_...``), so saved methods keep working and processing debits settle after a restart. Each answer
is kept under its idempotency key (``sandbox_records``: the portal's database, or memory in tests), as a
real gateway keeps its charges: a repeated request gets the first answer, and an attempt whose answer
was lost is found again by its key.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from services.clock import Clock, utc_now
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
)
from services.gateways.sandbox_records import MemoryRecords, Record, SandboxRecords

SANDBOX_NOTICE = "Sandbox - no real money"
BANK_SETTLE_DELAY = timedelta(seconds=5)

# Stripe's published test cards -> (failure code, message); no code means the charge succeeds.
TEST_CARDS = {
    "4242424242424242": ("", ""),
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
}
TEST_IBANS = {"DE89370400440532013000": True, "DE62370400440532013001": False}  # settles or fails
CLOSED: Record = {"closed": True}  # kept for an attempt closed without a charge: its key charges nothing
ATTEMPT_CLOSED = "This payment attempt was closed before it reached the payment service; nothing was charged."


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, character in enumerate(reversed(digits)):
        value = int(character)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def check_expiry(exp_month: int, exp_year: int, now: datetime) -> None:
    """A card's expiry month must exist and not have passed; one message per problem."""
    if not 1 <= exp_month <= 12:
        raise InvalidPaymentDetails("expiry", "The expiry month must be between 1 and 12.")
    if (exp_year, exp_month) < (now.year, now.month):
        raise InvalidPaymentDetails("expiry", "The expiry date is in the past.")
    if exp_year > now.year + 20:
        raise InvalidPaymentDetails("expiry", "The expiry year is too far in the future.")


class SandboxGateway:
    name = "sandbox"
    is_sandbox = True
    collects_cards_in_browser = False  # the sandbox takes test numbers on the payment form itself
    account = "sandbox"

    def __init__(
        self,
        *,
        clock: Clock = utc_now,
        settle_delay: timedelta = BANK_SETTLE_DELAY,
        records: SandboxRecords | None = None,
    ) -> None:
        self.clock = clock
        self.settle_delay = settle_delay
        self.records = records if records is not None else MemoryRecords()

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.amount_minor <= 0:
            raise InvalidPaymentDetails("amount", "The amount must be more than zero.")
        # Worked out first and then kept, in one write: a repeated key gets the answer kept the first time.
        if request.saved_method_id:
            result = self._charge_saved(request.saved_method_id, request.idempotency_key)
        elif request.card is not None:
            result = self._charge_card(request)
        elif request.bank_account is not None:
            result = self._charge_bank(request)
        else:
            raise InvalidPaymentDetails("method", "Choose a card or a bank account.")
        record = _record(replace(result, reference=request.idempotency_key))
        return _answer(self.records.keep(request.idempotency_key, record))

    def find_charge(self, query: ChargeQuery) -> ChargeResult | None:
        kept = self.records.get(query.idempotency_key)
        return None if kept is None or kept.get("closed") else _answer(kept)

    def close_attempt(self, query: ChargeQuery) -> ChargeResult | None:
        kept = self.records.keep(query.idempotency_key, CLOSED)
        return None if kept.get("closed") else _answer(kept)

    def cancel(self, gateway_payment_id: str) -> ChargeResult:
        return self.retrieve(gateway_payment_id)  # the sandbox asks for no challenge: nothing waits

    def retrieve(self, gateway_payment_id: str) -> ChargeResult:
        parts = gateway_payment_id.split("_")
        if gateway_payment_id.startswith("sbx_bank_") and len(parts) == 6:
            # sbx_bank_<ok|fail>_<settle time>_<random>_<last 4>
            outcome, settles = parts[2], datetime.fromtimestamp(int(parts[3]), self.clock().tzinfo)
            method = MethodInfo("", MethodKind.BANK_ACCOUNT, "SEPA Direct Debit", parts[5])
            if self.clock() < settles:
                return ChargeResult(gateway_payment_id, ChargeStatus.PROCESSING, method)
            if outcome == "ok":
                return ChargeResult(gateway_payment_id, ChargeStatus.SUCCEEDED, method)
            return ChargeResult(gateway_payment_id, ChargeStatus.FAILED, method, failure_code="debit_failed",
                                failure_message="The bank refused the direct debit.")  # fmt: skip
        if gateway_payment_id.startswith("sbx_card_") and len(parts) == 4:
            # sbx_card_<last 4>_<random>: card charges are final at once
            method = MethodInfo("", MethodKind.CARD, "Visa", parts[2])
            number = next((n for n in TEST_CARDS if n.endswith(parts[2])), "")
            code, message = TEST_CARDS.get(number, ("card_declined", "Your card was declined."))
            status = ChargeStatus.FAILED if code else ChargeStatus.SUCCEEDED
            return ChargeResult(
                gateway_payment_id, status, method, failure_code=code, failure_message=message
            )
        raise InvalidPaymentDetails("payment", f"Unknown sandbox payment {gateway_payment_id!r}.")

    def refund(self, gateway_payment_id: str, amount_minor: int, idempotency_key: str) -> RefundResult:
        if amount_minor <= 0:
            raise InvalidPaymentDetails("amount", "The amount must be more than zero.")
        digest = hashlib.sha256(f"{gateway_payment_id}:{idempotency_key}".encode()).hexdigest()[:16]
        return RefundResult(f"sbx_refund_{digest}", succeeded=True)

    def accepts_bank_debits(self, currency: str) -> bool:
        return True  # the test IBANs work in any currency, so every form can be tried

    def ensure_customer(self, customer_id: str, *, email: str, name: str) -> str:
        return customer_id or f"sbx_cus_{secrets.token_hex(6)}"

    def start_card_setup(self, customer_id: str) -> CardSetup:
        raise InvalidPaymentDetails("method", "The sandbox takes test card numbers on the payment form.")

    def update_method(self, gateway_method_id: str, update: MethodUpdate) -> MethodInfo:
        check_expiry(update.exp_month, update.exp_year, self.clock())
        parts = gateway_method_id.split("_")
        if not (gateway_method_id.startswith("pm_sbx_card_") and len(parts) >= 4):
            raise InvalidPaymentDetails("method", "Only a saved card's details can be changed.")
        return MethodInfo(gateway_method_id, MethodKind.CARD, "Visa", parts[3], update.exp_month,
                          update.exp_year, update.holder_name, update.billing_address)  # fmt: skip

    def remove_method(self, gateway_method_id: str) -> None:
        if not gateway_method_id.startswith("pm_sbx_"):
            raise InvalidPaymentDetails("method", "This saved payment method is not known to the sandbox.")

    def parse_webhook(self, payload: bytes, signature_header: str) -> WebhookEvent:
        raise InvalidWebhook("The sandbox gateway sends no webhooks.")

    def _charge_card(self, request: ChargeRequest) -> ChargeResult:
        card = request.card
        assert card is not None  # noqa: S101 - charge() routes only card requests here
        number = card.number.replace(" ", "").replace("-", "")
        # isdecimal, not isdigit: "²".isdigit() is true, yet int("²") raises
        if not number.isdecimal() or not 12 <= len(number) <= 19 or not luhn_valid(number):
            raise InvalidPaymentDetails("card_number", "The card number is not valid.")
        check_expiry(card.exp_month, card.exp_year, self.clock())
        if not (card.cvc.isdecimal() and len(card.cvc) in (3, 4)):
            raise InvalidPaymentDetails("cvc", "The CVV must be 3 or 4 digits.")
        if number not in TEST_CARDS:
            raise InvalidPaymentDetails("card_number", "Sandbox mode accepts test cards only.")
        last4 = number[-4:]
        method = MethodInfo(f"pm_sbx_card_{last4}_{secrets.token_hex(4)}", MethodKind.CARD, "Visa", last4,
                            card.exp_month, card.exp_year, card.holder_name.strip(),
                            card.billing_address)  # fmt: skip
        return self._card_result(last4, method, saved=request.save_method)

    def _charge_saved(self, method_id: str, key: str) -> ChargeResult:
        parts = method_id.split("_")
        if method_id.startswith("pm_sbx_card_") and len(parts) >= 4:
            method = MethodInfo(method_id, MethodKind.CARD, "Visa", parts[3])
            return self._card_result(parts[3], method, saved=True)
        if method_id.startswith("pm_sbx_bank_") and len(parts) >= 5:
            return self._bank_result(parts[3] == "ok", parts[4], method_id, saved=True)
        raise InvalidPaymentDetails("method", "This saved payment method is not known to the sandbox.")

    def _card_result(self, last4: str, method: MethodInfo, *, saved: bool) -> ChargeResult:
        number = next((n for n in TEST_CARDS if n.endswith(last4)), "")
        code, message = TEST_CARDS.get(number, ("card_declined", "Your card was declined."))
        payment_id = f"sbx_card_{last4}_{secrets.token_hex(6)}"
        if code:
            return ChargeResult(
                payment_id, ChargeStatus.FAILED, method, failure_code=code, failure_message=message
            )
        return ChargeResult(payment_id, ChargeStatus.SUCCEEDED, method, saved=saved)

    def _charge_bank(self, request: ChargeRequest) -> ChargeResult:
        account = request.bank_account
        assert account is not None  # noqa: S101 - charge() routes only bank requests here
        if not account.holder_name.strip():
            raise InvalidPaymentDetails("holder_name", "Enter the account holder's name.")
        try:
            iban = IBAN(account.iban)
        except InvalidChecksumDigits:
            raise InvalidPaymentDetails(
                "iban", "The IBAN's check digits are wrong; please check it."
            ) from None
        except SchwiftyException:
            raise InvalidPaymentDetails("iban", "This is not a valid IBAN.") from None
        if not account.mandate_accepted:
            raise InvalidPaymentDetails("mandate", "Accept the direct debit mandate to pay by bank account.")
        if iban.compact not in TEST_IBANS:
            raise InvalidPaymentDetails("iban", "Sandbox mode accepts test accounts only.")
        ok = "ok" if TEST_IBANS[iban.compact] else "fail"
        method_id = f"pm_sbx_bank_{ok}_{iban.compact[-4:]}_{secrets.token_hex(4)}"
        return self._bank_result(ok == "ok", iban.compact[-4:], method_id, saved=request.save_method)

    def _bank_result(self, succeeds: bool, last4: str, method_id: str, *, saved: bool) -> ChargeResult:
        settles = int((self.clock() + self.settle_delay).timestamp())
        outcome = "ok" if succeeds else "fail"
        payment_id = f"sbx_bank_{outcome}_{settles}_{secrets.token_hex(4)}_{last4}"
        method = MethodInfo(method_id, MethodKind.BANK_ACCOUNT, "SEPA Direct Debit", last4)
        return ChargeResult(payment_id, ChargeStatus.PROCESSING, method, saved=saved)


def _record(result: ChargeResult) -> Record:
    return asdict(result)


def _answer(record: Record) -> ChargeResult:
    """The answer kept in ``record``; a closed attempt's key is refused, as nothing may be charged."""
    if record.get("closed"):
        raise InvalidPaymentDetails("payment", ATTEMPT_CLOSED)
    fields: dict[str, Any] = dict(record)
    method = dict(fields.pop("method"))
    method["kind"] = MethodKind(method["kind"])
    method["billing_address"] = BillingAddress(**method["billing_address"])
    return ChargeResult(status=ChargeStatus(fields.pop("status")), method=MethodInfo(**method), **fields)
