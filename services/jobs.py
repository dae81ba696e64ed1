"""The portal's scheduled jobs, in one list: what runs in the background, how often, and why running a
job twice does no harm (``services.scheduler`` runs each on one instance at a time).

- ``outbox`` (E-mail sender), every 5 s: expires the links of waiting messages and sends up to a batch
  of due messages (at once again while there are more). Each message is claimed on its own as well
  (``services.mailer``), and keeps its Message-ID on every attempt.
- ``payment_settling``, every 2 s, sticky: asks the gateway about every unanswered payment attempt and
  books each final answer once, under the payment's lock (``services.reconciliation``).
- ``scheduled_backups``, every minute: makes the backup Settings asks for when one is due, claiming it
  by moving ``last_started_at`` forward (``services.backup_schedule``).
- ``reminders``, one job per business that turned them on, daily in its time zone: at most one
  reminder per invoice and rule, a unique row written with its e-mail (``services.reminders``).
- ``recurring_invoices``, one job per business with an active recurring profile, daily in its time zone
  (and at once when a profile is saved or resumed): each occurrence's invoice is a unique row per profile
  and day, written with the invoice (``services.recurring_invoices``).
- ``auto_pay``, one job per business whose customers turned auto-pay on, daily in its time zone (every
  minute while a charge's answer is awaited): each automatic charge is a unique row per invoice and
  attempt, claimed before ``online_payments.pay`` is called (``services.auto_pay``).
"""

from __future__ import annotations

from datetime import timedelta

from services.auto_pay import AUTO_PAY_JOB, run_auto_pay
from services.backup_schedule import run_due_backup
from services.clock import Clock
from services.database import Database
from services.gateways.base import PaymentGateway
from services.mailer import BackgroundSender
from services.reconciliation import Reconciler
from services.recurring_invoices import RECURRING_JOB, run_recurring
from services.reminders import REMINDERS_JOB, run_reminders
from services.scheduler import Done, Job, JobKind, Offload
from services.settings import Settings

OUTBOX_JOB = "outbox"
SETTLING_JOB = "payment_settling"
BACKUPS_JOB = "scheduled_backups"
SEND_EVERY = timedelta(seconds=5)
SETTLE_EVERY = timedelta(seconds=2)
BACKUP_CHECK_EVERY = timedelta(minutes=1)


def outbox_job(sender: BackgroundSender, *, clock: Clock, offload: Offload | None = None) -> JobKind:
    """The e-mail sender's rounds; a round that sent a full batch comes back at once."""

    def run(_job: Job) -> Done | None:
        report = sender.deliver_round()
        return Done(next_due=clock()) if report is not None and report.attempted >= sender.batch else None

    return JobKind(OUTBOX_JOB, "E-mail sender", run, every=SEND_EVERY, singleton=True, offload=offload)


def settling_job(reconciler: Reconciler, *, offload: Offload | None = None) -> JobKind:
    """Payment settling, on the instance that holds it (sticky: its ask schedule is in its memory)."""

    def run(_job: Job) -> None:
        reconciler.run()

    return JobKind(
        SETTLING_JOB,
        "Payment settling",
        run,
        every=SETTLE_EVERY,
        singleton=True,
        sticky=True,
        offload=offload,
    )


def backups_job(db: Database, settings: Settings, *, clock: Clock, offload: Offload | None = None) -> JobKind:
    """Scheduled backups: each check makes the backup if one is due (``run_due_backup``)."""

    def run(_job: Job) -> None:
        run_due_backup(db, settings, clock=clock)

    return JobKind(
        BACKUPS_JOB, "Scheduled backups", run, every=BACKUP_CHECK_EVERY, singleton=True, offload=offload
    )


def reminders_job(db: Database, *, base_url: str, clock: Clock, offload: Offload | None = None) -> JobKind:
    """A business's payment reminders (its id is the job's key), back the next day at the hour they go."""

    def run(job: Job) -> Done:
        next_due = run_reminders(db, int(job.key), base_url=base_url, clock=clock)
        return Done(next_due=next_due, finished=next_due is None)

    return JobKind(REMINDERS_JOB, "Payment reminders", run, every=timedelta(days=1), offload=offload)


def recurring_job(db: Database, *, base_url: str, clock: Clock, offload: Offload | None = None) -> JobKind:
    """A business's recurring invoices (its id is the job's key), back when the next one is due."""

    def run(job: Job) -> Done:
        next_due = run_recurring(db, int(job.key), base_url=base_url, clock=clock)
        return Done(next_due=next_due, finished=next_due is None)

    return JobKind(RECURRING_JOB, "Recurring invoices", run, every=timedelta(days=1), offload=offload)


def auto_pay_job(
    db: Database, gateway: PaymentGateway, *, base_url: str, clock: Clock, offload: Offload | None = None
) -> JobKind:
    """A business's automatic charges (its id is the job's key); it asks the gateway, so it runs where
    gateway calls run."""

    def run(job: Job) -> Done:
        next_due = run_auto_pay(db, gateway, int(job.key), base_url=base_url, clock=clock)
        return Done(next_due=next_due, finished=next_due is None)

    return JobKind(AUTO_PAY_JOB, "Auto-pay", run, every=timedelta(days=1), offload=offload)


def portal_jobs(
    db: Database,
    settings: Settings,
    *,
    sender: BackgroundSender,
    reconciler: Reconciler,
    clock: Clock,
    io_offload: Offload | None = None,
    gateway_offload: Offload | None = None,
) -> list[JobKind]:
    """Every job of the running portal. Settling asks the gateway, so it runs where gateway calls run."""
    return [
        outbox_job(sender, clock=clock),  # (SMTP and PDFs: its own thread, not the database's pool)
        settling_job(reconciler, offload=gateway_offload),
        backups_job(db, settings, clock=clock, offload=io_offload),
        reminders_job(db, base_url=settings.public_url, clock=clock, offload=io_offload),
        recurring_job(db, base_url=settings.public_url, clock=clock, offload=io_offload),
        auto_pay_job(
            db, reconciler.gateway, base_url=settings.public_url, clock=clock, offload=gateway_offload
        ),
    ]
