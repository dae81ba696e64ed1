"""A portal instance's scheduler, killed (SIGKILL) in the middle of a job while it holds the job's lease.

Run by tests/integration/test_scheduler_crash.py as ``python -m tests.integration.scheduler_crash_driver
DATABASE_URL ORGANIZATION_ID LEASE_SECONDS``. It runs a scheduler with the business's payment reminders
job, as the portal's would, and kills its own process right after the first reminder is committed: the
job is claimed (its lease held until it expires), one reminder is sent, the others are not, and nothing
records how the run ended. Nothing can catch or clean up after SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from typing import Any

from services import reminders
from services.clock import utc_now
from services.database import Database
from services.jobs import reminders_job
from services.scheduler import Scheduler

BASE_URL = "https://portal.acme.example"


def main(url: str, organization_id: str, lease_seconds: str) -> None:
    db = Database.from_url(url)
    send = reminders._send

    def send_then_die(*args: Any, **kwargs: Any) -> bool:
        sent = send(*args, **kwargs)  # committed: the reminder and its e-mail are in the database
        os.kill(os.getpid(), signal.SIGKILL)
        return sent

    reminders._send = send_then_die
    kind = reminders_job(db, base_url=BASE_URL, clock=utc_now)
    scheduler = Scheduler(db, [kind], lease=timedelta(seconds=float(lease_seconds)), poll=0.05)
    print(f"business {organization_id}: scheduler {scheduler.holder}", flush=True)
    asyncio.run(scheduler.run())  # claims the business's due reminders job, and dies in it


if __name__ == "__main__":
    main(*sys.argv[1:])
