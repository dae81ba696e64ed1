"""A portal process that pays the demo customer's invoices and is killed (SIGKILL) at a chosen step.

Run by tests/integration/test_payment_crash.py as ``python -m tests.integration.payment_crash_driver
STEP [PAYMENT_METHOD_ID]`` with the portal's own settings in the environment (PORTAL_DATA_DIR,
DATABASE_URL, PORTAL_STRIPE_*). It starts the portal as app.py does (``portal.start``), signs nobody
in (the demo customer's principal is read from the database), asks for Pay Now over everything, and
kills itself with SIGKILL, which nothing can catch or clean up after:

- ``before_gateway``: the attempt is stored; the gateway was never asked.
- ``after_gateway``: the gateway charged; its answer was never booked.
- ``during_booking``: inside the transaction that books the answer (receipt numbered, invoices paid),
  before it commits.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sqlalchemy import select

from models import Client, PortalUser
from services import online_payments, portal
from services.demo import CUSTOMER_EMAIL
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.switch import unwrap
from services.online_payments import pay, plan_pay_all
from services.principal import Principal
from services.settings import load_settings

STEPS = ("before_gateway", "after_gateway", "during_booking")


def die(*_: Any, **__: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def demo_customer(started: portal.Portal) -> Principal:
    with started.db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        client = session.get(Client, user.client_id)
        assert client is not None
        return Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)


def kill_at(started: portal.Portal, step: str) -> bool:
    """Make the portal's next payment kill its process at ``step`` (one of ``STEPS``); False for another."""
    gateway: Any = unwrap(started.gateway)  # the gateway pay() calls, behind the portal's switch
    charge = gateway.charge
    if step == "before_gateway":
        gateway.charge = die
    elif step == "after_gateway":
        gateway.charge = lambda request: die(charge(request))
    elif step == "during_booking":
        online_payments.prepare_receipt = die  # called in book_result's transaction, after the allocations
    else:
        return False
    return True


def main(step: str, payment_method_id: str = "") -> None:
    started = portal.start(load_settings())
    if not kill_at(started, step):
        raise SystemExit(f"unknown step {step!r}; one of {', '.join(STEPS)}")
    principal = demo_customer(started)
    if payment_method_id:  # Stripe: a card the browser set up with Stripe.js
        request = ChargeRequest("", 0, "", "", payment_method_id=payment_method_id)
    else:
        card = CardDetails("4242424242424242", 12, 2030, "123", "Demo Customer")
        request = ChargeRequest("", 0, "", "", card=card)
    plan = plan_pay_all(started.db, principal, clock=started.clock)
    pay(started.db, started.gateway, principal, plan, request, clock=started.clock)
    raise SystemExit(3)  # never reached: the process was killed


if __name__ == "__main__":
    main(*sys.argv[1:])
