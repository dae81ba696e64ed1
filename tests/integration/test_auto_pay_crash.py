"""Auto-pay survives its job's process being killed at every step.

A real portal process (``auto_pay_crash_driver``) runs the demo business's auto-pay job, which charges
the demo customer's saved card for an invoice due today, and is killed with SIGKILL once the invoice's
attempt is claimed, after the gateway charged, or in the middle of booking the answer. Then what a
restarted portal does: reconciliation asks the gateway about the attempt left in doubt, and the job runs
again on its schedule. The invoice is charged exactly once, booked once, and the customer gets one
receipt; a claim that never reached a payment is given up and the invoice charged on a later run. On
SQLite and on PostgreSQL, with the sandbox gateway (its record of each charge kept in the database).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AutoPayAttempt, Invoice, OutboxEmail, Payment, SandboxCharge, SavedPaymentMethod
from services import portal
from services.auto_pay import (
    NOT_STARTED_AFTER,
    SKIPPED,
    SUCCEEDED,
    charge_due_invoices,
    consent_text,
    turn_on_auto_pay,
)
from services.demo import seed_demo
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.switch import unwrap
from services.invoices import create_invoice, send_invoice
from services.online_payments import pay, plan_pay_all, plan_pay_invoice
from services.reconciliation import IN_DOUBT_GRACE, reconcile_payments
from services.totals import LineInput
from tests.conftest import POSTGRES_URL
from tests.integration.payment_crash_driver import demo_customer
from tests.portal_process import crash_environment, run_until_killed, settings_of

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set")
    ),
]
BASE_URL = "http://portal.test"
INVOICE_TOTAL = 150_000
# Auto-pay plans as Pay Now does: the demo customer's $120.00 of credits and $700.00 of retainer first,
# and the card for the rest.
CHARGE = INVOICE_TOTAL - 12_000 - 70_000


class AutoPayPortal:
    """The demo business in a data folder of its own; its customer pays by auto-pay with a saved card,
    and owes one new invoice due today."""

    def __init__(self, backend: str, data_dir: Path) -> None:
        self.environment = crash_environment(backend, data_dir, "autopaycrash")
        self.started = portal.start(settings_of(self.environment))
        seed_demo(self.started.db, password_rounds=4)
        self.db = self.started.db
        self.gateway = unwrap(self.started.gateway)
        self.customer = demo_customer(self.started)
        self.moment = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)  # the job's run
        self._save_a_card_and_turn_auto_pay_on()
        today = datetime.now(UTC).date()
        invoice = create_invoice(
            self.db,
            client_id=self.customer.client_id,
            lines=[LineInput("Design work", Decimal(1), INVOICE_TOTAL)],
            issue_date=today,
            due_date=today,
        )
        send_invoice(self.db, invoice.id)  # issued after auto-pay was turned on: auto-pay charges it
        self.invoice_id = invoice.id

    def _save_a_card_and_turn_auto_pay_on(self) -> None:
        first = plan_pay_all(self.db, self.customer).lines[0]
        plan = plan_pay_invoice(self.db, self.customer, first.invoice_public_id)
        card = CardDetails("4242424242424242", 12, 2030, "123", "Demo Customer")
        paid = pay(
            self.db,
            self.gateway,
            self.customer,
            plan,
            ChargeRequest("", 0, "", "", card=card, save_method=True),
        )
        assert paid.status == "succeeded"
        with self.db.reading() as session:
            method = session.scalars(
                select(SavedPaymentMethod.public_id).where(
                    SavedPaymentMethod.client_id == self.customer.client_id
                )
            ).one()
        shown = consent_text(self.db, self.customer, method, "sandbox")
        turn_on_auto_pay(
            self.db, self.customer, method, gateway_name="sandbox", shown_text=shown, ip_address="127.0.0.1"
        )

    def kill_the_job(self, step: str) -> None:
        driver = "tests.integration.auto_pay_crash_driver"
        run_until_killed(driver, step, self.moment.isoformat(), environment=self.environment)

    def restart_and_run(self, after: timedelta) -> None:
        """What the restarted portal does ``after`` the killed run: reconciliation books an answer left in
        doubt, then the auto-pay job runs (its next runs come minutes apart while a charge is awaited)."""
        at = self.moment + after
        reconcile_payments(self.db, [self.gateway], clock=lambda: at)
        for minutes in (0, 1, 2):
            self.run_the_job(at + timedelta(minutes=minutes))

    def run_the_job(self, at: datetime) -> None:
        organization_id = self.customer.organization_id
        charge_due_invoices(self.db, self.gateway, organization_id, base_url=BASE_URL, clock=lambda: at)

    def payments(self) -> list[tuple[str, str, int]]:
        """The invoice's payments: public id, status, amount."""
        with self.db.reading() as session:
            rows = session.execute(
                select(Payment.public_id, Payment.status, Payment.amount_minor)
                .where(Payment.client_id == self.customer.client_id, Payment.created_at >= self.moment)
                .order_by(Payment.id)
            )
            return [(row.public_id, row.status, row.amount_minor) for row in rows]

    def charges_at_gateway(self, public_ids: list[str]) -> list[str]:
        with self.db.reading() as session:
            answers = session.scalars(
                select(SandboxCharge.answer).where(SandboxCharge.idempotency_key.in_(public_ids))
            )
            return [answer["status"] for answer in answers if not answer.get("closed")]

    def attempts(self) -> list[str]:
        with self.db.reading() as session:
            return list(
                session.scalars(
                    select(AutoPayAttempt.status)
                    .where(AutoPayAttempt.invoice_id == self.invoice_id)
                    .order_by(AutoPayAttempt.attempt)
                )
            )

    def invoice(self) -> tuple[str, int]:
        with self.db.reading() as session:
            invoice = session.get_one(Invoice, self.invoice_id)
            return invoice.status, invoice.balance_due_minor

    def outbox(self) -> list[str]:
        with self.db.reading() as session:
            return list(session.scalars(select(OutboxEmail.subject).order_by(OutboxEmail.id)))


@pytest.fixture(params=BACKENDS)
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AutoPayPortal]:
    made = AutoPayPortal(request.param, tmp_path / "data")
    yield made
    made.db.engine.dispose()


@pytest.mark.parametrize("step", ["after_gateway", "during_booking"])
def test_a_charge_made_before_the_kill_is_booked_once_and_the_job_settles_its_attempt(
    demo: AutoPayPortal, step: str
) -> None:
    mails = demo.outbox()

    demo.kill_the_job(step)

    [(public_id, status, amount)] = demo.payments()
    assert (status, amount) == ("pending", CHARGE)  # money taken, nothing booked
    assert demo.charges_at_gateway([public_id]) == ["succeeded"]
    assert demo.attempts() == ["started"]
    assert demo.invoice() == ("sent", INVOICE_TOTAL)  # the credits held, not yet applied

    demo.restart_and_run(after=IN_DOUBT_GRACE + timedelta(minutes=1))

    assert demo.payments() == [(public_id, "succeeded", CHARGE)]  # the same payment, booked: no second
    assert demo.charges_at_gateway([public_id]) == ["succeeded"]
    assert demo.attempts() == [SUCCEEDED]
    assert demo.invoice() == ("paid", 0)
    new = demo.outbox()[len(mails) :]
    assert len(new) == 2  # one receipt to the customer, one notice to the business
    assert any(subject.startswith("Receipt RCPT-") for subject in new)


def test_a_claim_killed_before_its_payment_is_given_up_and_the_invoice_charged_once_later(
    demo: AutoPayPortal,
) -> None:
    mails = demo.outbox()

    demo.kill_the_job("claimed")

    assert demo.payments() == []  # nothing stored, nothing asked of the gateway
    assert demo.attempts() == ["started"]
    demo.restart_and_run(after=timedelta(minutes=1))  # the claim may still have a charge on its way
    assert demo.payments() == []
    assert demo.attempts() == ["started"]

    demo.restart_and_run(after=NOT_STARTED_AFTER + timedelta(minutes=1))

    [(public_id, status, amount)] = demo.payments()
    assert (status, amount) == ("succeeded", CHARGE)
    assert demo.charges_at_gateway([public_id]) == ["succeeded"]
    assert demo.attempts() == [SKIPPED, SUCCEEDED]
    assert demo.invoice() == ("paid", 0)
    new = demo.outbox()[len(mails) :]
    assert len(new) == 2  # the receipt and the business's notice; no failure e-mail for the given-up claim
