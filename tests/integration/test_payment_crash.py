"""A payment survives its process being killed at every step.

A real portal process (``payment_crash_driver``) pays everything the demo customer owes and is killed
with SIGKILL before the gateway call, after it, or in the middle of booking the answer. The portal is
then started again (``python app.py``), as an operator would after a crash. Each payment is booked
exactly once, the gateway holds exactly one charge for it, and no invoice can be paid twice; an attempt
that never reached the gateway keeps its invoices until the gateway confirms it has no charge, and they
can then be paid. With the sandbox and with Stripe (localstripe), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from models import OutboxEmail, Payment, PaymentStatus, SandboxCharge
from services import portal
from services.clock import utc_now
from services.database import Database
from services.demo import seed_demo
from services.gateways.base import CardDetails, ChargeRequest
from services.online_payments import pay, plan_pay_all
from services.reconciliation import IN_DOUBT_GRACE, NEVER_CHARGED, Reconciler
from services.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.integration.localstripe_server import LocalStripe, start_localstripe
from tests.integration.payment_crash_driver import demo_customer
from tests.portal_process import crash_environment, run_until_killed, running_portal, settings_of

STRIPE_KEYS = {
    "PORTAL_STRIPE_SECRET_KEY": "sk_test_crash",
    "PORTAL_STRIPE_PUBLISHABLE_KEY": "pk_test_crash",
    "PORTAL_STRIPE_WEBHOOK_SECRET": "whsec_crash",
}
SETUPS = [
    "sqlite-sandbox",
    "sqlite-stripe",
    pytest.param(
        "postgresql-sandbox",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set"),
    ),
]


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = start_localstripe(tmp_path_factory.mktemp("localstripe"))
    yield server
    server.stop()


class Portal:
    """One data folder (and database) with the demo business, and the settings every process gets."""

    def __init__(self, setup: str, data_dir: Path, localstripe: LocalStripe) -> None:
        backend, self.gateway = setup.split("-")
        self.environment = crash_environment(backend, data_dir, "crash")
        if self.gateway == "stripe":
            self.environment |= STRIPE_KEYS | {"PORTAL_STRIPE_API_BASE": localstripe.api_base}
            self.stripe = stripe.StripeClient(STRIPE_KEYS["PORTAL_STRIPE_SECRET_KEY"],
                                              base_addresses={"api": localstripe.api_base})  # fmt: skip
        settings = self.settings()
        self.started = portal.start(settings)
        seed_demo(self.started.db, password_rounds=4)
        self.db: Database = self.started.db
        self.customer = demo_customer(self.started)
        with self.db.reading() as session:  # the demo's own payments are not these tests' attempts
            self.seeded = int(session.scalar(select(func.max(Payment.id))) or 0)

    def settings(self) -> Settings:
        """The settings app.py reads from this environment."""
        return settings_of(self.environment)

    def card(self) -> str:
        """Stripe: what Stripe.js makes of the card typed in the browser. Sandbox: nothing."""
        if self.gateway != "stripe":
            return ""
        method = self.stripe.v1.payment_methods.create(
            params={"type": "card", "card": {"number": "4242424242424242", "exp_month": 12,
                                             "exp_year": 2030, "cvc": "123"}}
        )  # fmt: skip
        return str(method.id)

    def kill_while_paying(self, step: str) -> None:
        arguments = [step, self.card()] if self.gateway == "stripe" else [step]
        run_until_killed("tests.integration.payment_crash_driver", *arguments, environment=self.environment)

    def attempts(self) -> list[tuple[str, str, str | None, int]]:
        """The payments made since the demo was seeded: public id, status, receipt number, amount."""
        with self.db.reading() as session:
            rows = session.execute(
                select(Payment.public_id, Payment.status, Payment.receipt_number, Payment.amount_minor)
                .where(Payment.id > self.seeded)
                .order_by(Payment.id)
            )
            return [(row.public_id, row.status, row.receipt_number, row.amount_minor) for row in rows]

    def charges_at_gateway(self, public_ids: set[str]) -> list[str]:
        """The status of every charge the gateway holds for these attempts of ours."""
        if self.gateway == "sandbox":
            with self.db.reading() as session:
                answers = session.scalars(
                    select(SandboxCharge.answer).where(SandboxCharge.idempotency_key.in_(public_ids))
                )
                return [answer["status"] for answer in answers if not answer.get("closed")]
        intents = self.stripe.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
        return [intent.status for intent in intents if _reference(intent) in public_ids]

    def outbox_count(self) -> int:
        with self.db.reading() as session:
            return int(session.scalar(select(func.count()).select_from(OutboxEmail)) or 0)

    def restart(self, until: PaymentStatus | None) -> None:
        """``python app.py`` on the same data; waits until start-up reconciliation has booked the
        attempt (``until``), or for a few rounds of it when nothing is to be booked yet."""
        with running_portal(Path(self.environment["PORTAL_DATA_DIR"]), demo=False, settings=self.environment):
            deadline = time.monotonic() + (30 if until else 5)
            while time.monotonic() < deadline:
                if until and self.attempts()[-1][1] == until:
                    return
                time.sleep(0.2)
            assert until is None, f"not booked after a restart: {self.attempts()}"

    def close(self) -> None:
        self.db.engine.dispose()


def _reference(intent: Any) -> str:
    """Our payment id, which the portal puts in every PaymentIntent's metadata."""
    return str(intent.metadata["payment_id"]) if "payment_id" in (intent.metadata or {}) else ""


@pytest.fixture
def demo(request: pytest.FixtureRequest, tmp_path: Path, localstripe: LocalStripe) -> Iterator[Portal]:
    made = Portal(request.param, tmp_path / "data", localstripe)
    yield made
    made.close()


@pytest.mark.parametrize("demo", SETUPS, indirect=True)
@pytest.mark.parametrize("step", ["after_gateway", "during_booking"])
def test_a_charge_made_before_the_kill_is_booked_exactly_once_after_a_restart(
    demo: Portal, step: str
) -> None:
    plan = plan_pay_all(demo.db, demo.customer)
    assert plan.total.minor > 0
    mails = demo.outbox_count()

    demo.kill_while_paying(step)

    [(public_id, status, receipt, amount)] = demo.attempts()
    assert (status, receipt, amount) == ("pending", None, plan.total.minor)  # nothing booked, money taken
    assert demo.charges_at_gateway({public_id}) == ["succeeded"]
    assert plan_pay_all(demo.db, demo.customer).lines == ()  # reserved while in doubt: no second charge

    demo.restart(until=PaymentStatus.SUCCEEDED)

    [(_, status, receipt, _)] = demo.attempts()
    assert status == "succeeded"
    assert receipt is not None
    again = plan_pay_all(demo.db, demo.customer)
    assert (again.lines, again.on_its_way) == ((), None)  # every invoice paid, and nothing to pay twice
    assert demo.charges_at_gateway({public_id}) == ["succeeded"]
    assert demo.outbox_count() == mails + 2  # one receipt, one notice to the business: booked once


@pytest.mark.parametrize("demo", SETUPS, indirect=True)
def test_an_attempt_killed_before_the_gateway_holds_its_invoices_until_the_gateway_confirms_no_charge(
    demo: Portal,
) -> None:
    plan = plan_pay_all(demo.db, demo.customer)

    demo.kill_while_paying("before_gateway")
    demo.restart(until=None)

    [(public_id, status, _, _)] = demo.attempts()
    assert status == "pending"  # no answer yet: not failed by a time-out, not paid
    held = plan_pay_all(demo.db, demo.customer)
    assert (held.lines, held.on_its_way) == ((), plan.total)  # "We are confirming your payment"
    assert demo.charges_at_gateway({public_id}) == []

    later = utc_now() + IN_DOUBT_GRACE + timedelta(seconds=1)
    assert Reconciler(demo.db, demo.started.gateway, clock=lambda: later).run().booked == 1
    with demo.db.reading() as session:
        failed = session.execute(
            select(Payment.status, Payment.failure_message).where(Payment.public_id == public_id)
        ).one()
    assert tuple(failed) == ("failed", NEVER_CHARGED)

    retry = plan_pay_all(demo.db, demo.customer)
    assert retry.total == plan.total
    method = demo.card()
    request = (
        ChargeRequest("", 0, "", "", payment_method_id=method)
        if method
        else ChargeRequest("", 0, "", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Demo"))
    )
    assert pay(demo.db, demo.started.gateway, demo.customer, retry, request).status == "succeeded"
    attempts = demo.attempts()
    assert [a[1] for a in attempts] == ["failed", "succeeded"]
    assert demo.charges_at_gateway({a[0] for a in attempts}) == ["succeeded"]  # one charge in all
