"""Two instances on one PostgreSQL database run their schedulers side by side, each with its own engine
and event loop, as two ``python app.py`` would: every job runs once at a time and each one-off job once,
every e-mail reaches the SMTP server (aiosmtpd) once, every bank debit is settled and booked once, only
one instance asks the gateway about the attempts, and one scheduled backup is made between them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

import models
from models import Invoice, OutboxEmail, Payment, ScheduledJob
from services import backup_schedule
from services.backup_schedule import run_due_backup, save_schedule
from services.clock import utc_now
from services.database import Database
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.jobs import outbox_job, settling_job
from services.mailer import BackgroundSender, SmtpConfig
from services.online_payments import pay, plan_pay_invoice
from services.outbox import SENT, queue_email
from services.reconciliation import Reconciler
from services.scheduler import Done, Job, JobKind, Scheduler, arm
from services.settings import Settings
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.factories import make_customer, make_organization, make_sent_invoice
from tests.portal_process import free_port
from tests.unit.services.test_backup_schedule import FakeArchives
from tests.unit.services.test_online_payments import bank

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)

EMAILS = 50
DEBITS = 4


class SlowInbox:
    """An SMTP server's handler that keeps every message, taking a moment over each (as real ones do), so
    that both senders are at work at the same time."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        await asyncio.sleep(0.01)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


class CountingGateway:
    """The sandbox as one instance reaches it, counting the questions that instance asks."""

    def __init__(self, gateway: SandboxGateway) -> None:
        self._gateway = gateway
        self.questions = 0

    def __getattr__(self, name: str) -> Any:
        if name in ("retrieve", "find_charge"):
            self.questions += 1
        return getattr(self._gateway, name)


class Instance:
    """One portal's scheduler with the outbox and payment settling jobs (and any others given), on a
    thread of its own."""

    def __init__(self, url: str, smtp: SmtpConfig | None = None, *others: JobKind) -> None:
        self.db = Database.from_url(url)
        self.gateway = CountingGateway(SandboxGateway(records=DatabaseRecords(self.db)))
        self.reconciler = Reconciler(self.db, self.gateway, clock=utc_now)
        self.sender = BackgroundSender(self.db, lambda: smtp, batch=5)
        fast = timedelta(seconds=0.1)
        jobs = [
            replace(outbox_job(self.sender, clock=utc_now), every=fast),
            replace(settling_job(self.reconciler), every=fast),
            *others,
        ]
        self.scheduler = Scheduler(self.db, jobs, poll=0.05)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._run(),), daemon=True)

    async def _run(self) -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(self.scheduler.run(stop))
        while not self.stopping.is_set():
            await asyncio.sleep(0.05)
        stop.set()
        await running
        await self.scheduler.wait_idle()
        await asyncio.to_thread(self.scheduler.release)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        self.db.engine.dispose()


@pytest.fixture
def database_url():
    url = postgres_test_url("instances")
    db = Database.from_url(url)
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    models.Base.metadata.create_all(db.engine)
    db.engine.dispose()
    return url


@pytest.fixture
def smtp_server():
    inbox = SlowInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    yield (
        inbox,
        SmtpConfig("127.0.0.1", port, "none", "billing@acme.example", timeout=5, helo_name="localhost"),
    )
    controller.stop()


def bank_debits_processing(db: Database, organization_id: int) -> list[str]:
    """DEBITS clients each paying an invoice by bank debit: processing, settling a second later."""
    gateway = SandboxGateway(records=DatabaseRecords(db), settle_delay=timedelta(seconds=1))
    paid = []
    for number in range(DEBITS):
        principal = make_customer(
            db, organization_id, name=f"Client {number}", email=f"client{number}@client.example"
        )
        invoice = make_sent_invoice(db, principal.client_id, 10000 + number)
        plan = plan_pay_invoice(db, principal, invoice.public_id, clock=utc_now)
        outcome = pay(db, gateway, principal, plan, bank(), clock=utc_now)
        assert outcome.status == "processing"
        paid.append(invoice.public_id)
    return paid


def until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not done in time"
        time.sleep(0.1)


def test_two_instances_deliver_each_email_once_and_settle_each_payment_once(database_url, smtp_server):
    inbox, smtp = smtp_server
    db = Database.from_url(database_url)
    organization_id = make_organization(db)
    with db.transaction() as session:
        for number in range(EMAILS):
            queue_email(
                session, to=[f"reader{number}@client.example"], subject=f"Message {number}", body_text="Hi",
                now=utc_now(),
            )  # fmt: skip
    invoices = bank_debits_processing(db, organization_id)

    instances = [Instance(database_url, smtp), Instance(database_url, smtp)]
    for instance in instances:
        instance.thread.start()
    try:

        def done() -> bool:
            with db.reading() as session:
                open_payments = session.scalar(
                    select(Payment.id).where(Payment.status != "succeeded").limit(1)
                )
                waiting = session.scalar(select(OutboxEmail.id).where(OutboxEmail.status != SENT).limit(1))
            return open_payments is None and waiting is None

        until(done)
        time.sleep(0.5)  # a second delivery, were there one, would arrive now
    finally:
        for instance in instances:
            instance.stop()

    with db.reading() as session:
        outbox = session.execute(select(OutboxEmail.public_id, OutboxEmail.attempts)).all()
        invoice_rows = session.execute(
            select(Invoice.status, Invoice.balance_due_minor).where(Invoice.public_id.in_(invoices))
        ).all()
        payment_rows = session.execute(
            select(Payment.status, Payment.unapplied_minor, Payment.receipt_number)
        ).all()
    db.engine.dispose()

    received = Counter(message["Message-ID"] for message in inbox.messages)
    assert len(outbox) >= EMAILS + DEBITS  # the 50, and a receipt for each debit once it settled
    assert received == Counter({f"<{public_id}@acme.example>": 1 for public_id, _ in outbox})
    assert {attempts for _, attempts in outbox} == {1}
    assert invoice_rows == [("paid", 0)] * DEBITS
    assert len(payment_rows) == DEBITS
    assert all(
        status == "succeeded" and unapplied == 0 and receipt for status, unapplied, receipt in payment_rows
    )
    asked = sorted(instance.gateway.questions for instance in instances)
    assert asked[0] == 0 < asked[1]  # one instance asked the gateway; the other left it to that one


@pytest.mark.parametrize("saved_in_settings", [True, False], ids=["schedule saved", "environment's schedule"])
def test_two_instances_make_one_scheduled_backup_between_them(
    database_url, tmp_path: Path, monkeypatch, saved_in_settings
):
    archives = FakeArchives()
    monkeypatch.setattr(backup_schedule, "create_backup", archives)
    settings = Settings(data_dir=tmp_path / "data", backup_every=0 if saved_in_settings else 24)
    first, second = Database.from_url(database_url), Database.from_url(database_url)
    if saved_in_settings:
        save_schedule(first, settings, enabled=True, every_hours=24, keep=7)
    start = threading.Barrier(2)
    made: list[object] = []
    failed: list[BaseException] = []

    def instance(db: Database) -> None:
        start.wait()
        try:
            made.append(run_due_backup(db, settings, clock=utc_now))
        except BaseException as error:  # (reported below, not lost in the thread)
            failed.append(error)

    threads = [threading.Thread(target=instance, args=(db,)) for db in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    first.engine.dispose()
    second.engine.dispose()

    assert failed == []
    assert len(archives.made) == 1
    assert sorted(made, key=lambda backup: backup is None)[1:] == [None]  # the other found it claimed


ONE_OFF_JOBS = 200


def test_two_schedulers_run_each_job_once_and_never_the_same_job_at_once(database_url):
    """Two hundred one-off jobs and a periodic one, claimed by two schedulers polling side by side: each
    one-off job runs once, and no two runs of the periodic job overlap."""
    db = Database.from_url(database_url)
    now = utc_now()
    with db.transaction() as session:
        for number in range(ONE_OFF_JOBS):
            arm(session, "count", str(number), due_at=now, now=now)
    runs: Counter[str] = Counter()
    running = []  # holders running the periodic job right now
    overlaps = []
    lock = threading.Lock()

    def count(job: Job) -> None:
        time.sleep(0.002)  # long enough for the other scheduler to try the same job meanwhile
        with lock:
            runs[job.key] += 1

    def tick(job: Job) -> Done:
        with lock:
            running.append(job.id)
            overlaps.append(len(running))
        time.sleep(0.01)
        with lock:
            running.remove(job.id)
        return Done(next_due=utc_now())  # at once again: both schedulers want it all the time

    kinds = (
        JobKind("count", "Count", count),
        JobKind("tick", "Tick", tick, every=timedelta(0), singleton=True),
    )
    instances = [Instance(database_url, None, *kinds), Instance(database_url, None, *kinds)]
    for instance in instances:
        instance.thread.start()
    try:
        until(lambda: sum(runs.values()) >= ONE_OFF_JOBS)
        time.sleep(0.5)  # a second run of any job, were there one, would come now
    finally:
        for instance in instances:
            instance.stop()

    with db.reading() as session:
        unfinished = session.scalar(
            select(func.count())
            .select_from(ScheduledJob)
            .where(ScheduledJob.kind == "count", ScheduledJob.due_at.is_not(None))
        )
        attempts = set(session.scalars(select(ScheduledJob.attempts).where(ScheduledJob.kind == "count")))
    db.engine.dispose()
    assert runs == Counter({str(number): 1 for number in range(ONE_OFF_JOBS)})
    assert unfinished == 0
    assert attempts == {0}
    assert len(overlaps) >= 4  # the periodic job ran again and again (about 10 times on a busy CI machine)
    assert max(overlaps) == 1
