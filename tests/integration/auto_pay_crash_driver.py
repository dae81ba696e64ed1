"""A portal process whose auto-pay job is killed (SIGKILL) at a chosen step while it charges an invoice.

Run by tests/integration/test_auto_pay_crash.py as ``python -m tests.integration.auto_pay_crash_driver
STEP MOMENT`` with the portal's own settings in the environment (PORTAL_DATA_DIR, DATABASE_URL). It
starts the portal as app.py does (``portal.start``) and runs the demo business's auto-pay job as its
scheduler would at ``MOMENT`` (ISO 8601), and kills itself with SIGKILL, which nothing can catch:

- ``claimed``: the invoice's attempt is claimed (its row committed); no payment stored yet.
- ``after_gateway``: the gateway charged the saved card; its answer was never booked.
- ``during_booking``: inside the transaction that books the answer, before it commits.
"""

from __future__ import annotations

import sys
from datetime import datetime

from services import auto_pay, portal
from services.auto_pay import charge_due_invoices
from services.settings import load_settings
from tests.integration.payment_crash_driver import demo_customer, die, kill_at

STEPS = ("claimed", "after_gateway", "during_booking")


def main(step: str, moment: str) -> None:
    started = portal.start(load_settings())
    if step == "claimed":
        auto_pay._plan = die  # the first step after the attempt's row is committed
    elif step not in STEPS or not kill_at(started, step):
        raise SystemExit(f"unknown step {step!r}; one of {', '.join(STEPS)}")
    at = datetime.fromisoformat(moment)
    organization_id = demo_customer(started).organization_id
    charge_due_invoices(
        started.db, started.gateway, organization_id, base_url="http://portal.test", clock=lambda: at
    )
    raise SystemExit(3)  # never reached: the process was killed


if __name__ == "__main__":
    main(*sys.argv[1:])
