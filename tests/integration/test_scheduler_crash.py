"""A scheduler killed while it runs a job: another instance takes the job over once the lease has expired,
not before, and finishes it without doing twice what the dead one did.

A real process (``scheduler_crash_driver``) runs a business's payment reminders job and is killed with
SIGKILL right after its first reminder is committed, holding the job's lease. A second scheduler on the
same database (SQLite file or PostgreSQL) then polls all along: it claims the job only after the lease,
sends the reminders the first did not send, and none of those it did.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from models import Invoice, InvoiceReminder, OutboxEmail, ScheduledJob, StaffUser
from services.clock import utc_now
from services.database import Database
from services.jobs import reminders_job
from services.reminders import REMINDERS_JOB, RuleInput, save_reminder_setup
from services.scheduler import Scheduler, job_state
from services.staff_auth import StaffPrincipal
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.factories import NOW, make_customer, make_sent_invoice
from tests.integration.scheduler_crash_driver import BASE_URL
from tests.portal_process import ROOT, clean_environment

LEASE_SECONDS = 3.0
INVOICES = 3


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set"),
        ),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
    else:
        url = postgres_test_url("scheduler_crash")
        db = Database.from_url(url)
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.engine.dispose()
    db = Database.from_url(url)
    db.migrate()
    db.engine.dispose()
    return url


def business_with_reminders_due_today(db: Database) -> int:
    """A business with reminders on the due date, and INVOICES invoices of one client due today."""
    today = utc_now().date()
    principal = make_customer(db)
    for number in range(INVOICES):
        make_sent_invoice(
            db,
            principal.client_id,
            1000 * (number + 1),
            issue_date=today - timedelta(days=10),
            due_in_days=10,
        )
    with db.transaction() as session:
        owner = StaffUser(
            organization_id=principal.organization_id,
            name="Owen Owner",
            email="owen@acme.example",
            password_hash="-",
            role="owner",
            created_at=NOW,
        )
        session.add(owner)
        session.flush()
        staff = StaffPrincipal(owner.id, principal.organization_id, owner.name, owner.email, "owner", 0)
    save_reminder_setup(db, staff, enabled=True, rules=[RuleInput("on")], clock=utc_now)  # due at once
    return principal.organization_id


def sent_reminders(db: Database) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(Invoice.number)
                .join(InvoiceReminder, InvoiceReminder.invoice_id == Invoice.id)
                .order_by(Invoice.number)
            )
        )


def reminder_emails(db: Database) -> int:
    with db.reading() as session:
        return (
            session.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.subject.like("%due today%"))
            )
            or 0
        )


def test_a_killed_schedulers_job_is_taken_over_after_its_lease_and_finished_once(database_url):
    db = Database.from_url(database_url)
    organization_id = business_with_reminders_due_today(db)

    crashed = subprocess.run(
        [sys.executable, "-m", "tests.integration.scheduler_crash_driver", database_url, str(organization_id),
         str(LEASE_SECONDS)],
        cwd=ROOT,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    holder = crashed.stdout.strip().rpartition(" ")[2]
    state = job_state(db, REMINDERS_JOB, str(organization_id))
    assert state is not None
    assert state.lease_holder == holder  # killed holding it
    assert state.attempts == 1
    assert state.lease_expires_at is not None
    assert len(sent_reminders(db)) == 1  # the one it sent before it died
    lease_expires_at = state.lease_expires_at

    claims: list[datetime] = []
    kind = reminders_job(db, base_url=BASE_URL, clock=utc_now)
    run = kind.run

    def watched(job):
        claims.append(datetime.now(UTC))
        return run(job)

    survivor = Scheduler(db, [replace(kind, run=watched)], poll=0.05)

    async def until_taken_over() -> None:
        stop = asyncio.Event()
        loop = asyncio.create_task(survivor.run(stop))
        try:
            for _ in range(400):
                done = job_state(db, REMINDERS_JOB, str(organization_id))
                if done is not None and done.last_succeeded_at is not None:
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await loop
            await survivor.wait_idle()

    asyncio.run(until_taken_over())

    assert len(claims) == 1
    assert claims[0] >= lease_expires_at  # not a moment before the dead instance's lease expired
    assert len(sent_reminders(db)) == INVOICES  # each invoice's reminder, the first one's once
    assert len(set(sent_reminders(db))) == INVOICES
    assert reminder_emails(db) == INVOICES
    finished = job_state(db, REMINDERS_JOB, str(organization_id))
    assert finished is not None
    assert (finished.attempts, finished.last_error, finished.lease_holder) == (0, "", "")
    assert finished.due_at is not None
    assert finished.due_at > utc_now()  # tomorrow's run
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(ScheduledJob)) == 1
    db.engine.dispose()
