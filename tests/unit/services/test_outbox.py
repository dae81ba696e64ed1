"""The outbox keeps every message with the event that caused it; the mailer delivers each once, with
retries that back off, and loses nothing when a sender stops half-way."""

from __future__ import annotations

import smtplib
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import EmailDeliveryAttempt, OutboxAttachment, OutboxEmail
from services.audit import record_event
from services.errors import InvalidStatusChange, NotFound
from services.mailer import (
    CLAIM_LEASE,
    NOT_CONFIGURED_NOTICE,
    RetryPolicy,
    SmtpConfig,
    deliver_due,
    startup_notice,
)
from services.outbox import Attachment, InvalidEmail, list_outbox, queue_email, retry_now
from services.settings import Settings, SettingsError
from tests.factories import NOW, Clock, make_client, make_organization

CONFIG = SmtpConfig(
    host="127.0.0.1", port=2525, security="none", from_address="Acme Studio <billing@acme.example>"
)


class FakeSender:
    """Records what it is given; raises ``failure`` instead while one is set."""

    def __init__(self, failure: BaseException | None = None) -> None:
        self.failure = failure
        self.messages: list = []
        self.closed = False
        self._lock = threading.Lock()

    def send(self, message):
        if self.failure is not None:
            raise self.failure
        with self._lock:
            self.messages.append(message)
        return {}

    def close(self):
        self.closed = True


class ProcessStopped(BaseException):
    """Stands for the process being killed between claiming a message and sending it."""


def queue(db, *, to=("ann@client.example",), subject="Invoice INV-000001", **kwargs):
    with db.transaction() as session:
        email_id = queue_email(
            session, to=to, subject=subject, body_text="Please find it attached.", now=NOW, **kwargs
        )
        return session.get_one(OutboxEmail, email_id).public_id


def entry(db, public_id):
    return next(e for e in list_outbox(db, limit=1000) if e.public_id == public_id)


def count(db, model):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def deliver(db, clock, sender, **kwargs):
    return deliver_due(db, CONFIG, clock=clock, sender=sender, **kwargs)


# queue_email


def test_a_queued_email_is_pending_and_due_at_once(db):
    client_id = make_client(db, make_organization(db))
    public_id = queue(db, to=["ann@client.example", "bob@client.example"], client_id=client_id)

    queued = entry(db, public_id)
    assert queued.status == "pending"
    assert queued.to == ("ann@client.example", "bob@client.example")
    assert queued.attempts == 0
    assert queued.created_at == NOW
    assert queued.next_attempt_at == NOW
    assert queued.sent_at is None


def test_a_queued_email_is_committed_with_the_callers_other_writes(db):
    with db.transaction() as session:
        record_event(session, "invoice.sent", at=NOW)
        queue_email(session, to=["ann@client.example"], subject="Invoice", body_text="Hi", now=NOW)

    assert count(db, OutboxEmail) == 1


def test_a_rollback_of_the_callers_transaction_leaves_no_message(db):
    pdf = Attachment("INV-000001.pdf", "application/pdf", b"%PDF-1.4 invoice")

    def send_invoice_then_fail():
        with db.transaction() as session:
            queue_email(
                session,
                to=["ann@client.example"],
                subject="Invoice",
                body_text="Hi",
                attachments=[pdf],
                now=NOW,
            )
            raise RuntimeError("the invoice could not be sent")

    with pytest.raises(RuntimeError, match="the invoice could not be sent"):
        send_invoice_then_fail()

    assert count(db, OutboxEmail) == 0
    assert count(db, OutboxAttachment) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to": ["ann@client.example\r\nBcc: everyone@victim.example"]}, "to"),
        ({"to": ["ann@client.example\n"]}, "to"),
        ({"to": ["ann@client.example, eve@attacker.example"]}, "to"),
        ({"to": ["Ann <ann@client.example>"]}, "to"),
        ({"to": ["ann.client.example"]}, "to"),
        ({"to": ["ann@client@example"]}, "to"),
        ({"to": ["@client.example"]}, "to"),
        ({"to": ["  "]}, "to"),
        ({"to": []}, "to"),
        ({"reply_to": "owner@acme.example\r\nBcc: everyone@victim.example"}, "reply_to"),
        ({"subject": "Invoice\r\nBcc: everyone@victim.example"}, "subject"),
        ({"subject": "Invoice\nContent-Type: text/html"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        (
            {"attachments": [Attachment("a.pdf\r\nX-Evil: 1", "application/pdf", b"%PDF-")]},
            "attachment filename",
        ),
        ({"attachments": [Attachment("a.pdf", "application/pdf\r\nX-Evil: 1", b"%PDF-")]}, "attachment type"),
        ({"attachments": [Attachment("a.pdf", "pdf", b"%PDF-")]}, "attachment type"),
    ],
)
def test_header_injection_and_malformed_addresses_are_refused(db, fields, field):
    message = {"to": ["ann@client.example"], "subject": "Invoice", "body_text": "Hi", **fields}
    with pytest.raises(InvalidEmail) as refused, db.transaction() as session:
        queue_email(session, now=NOW, **message)

    assert refused.value.field == field
    assert count(db, OutboxEmail) == 0


def test_line_breaks_in_the_body_are_allowed(db):
    with db.transaction() as session:
        email_id = queue_email(
            session, to=["ann@client.example"], subject="Invoice", body_text="Dear Ann,\n\nThanks.\n", now=NOW
        )
    with db.reading() as session:
        assert session.get_one(OutboxEmail, email_id).body_text == "Dear Ann,\n\nThanks.\n"


def test_a_recipient_given_twice_gets_one_copy(db):
    public_id = queue(db, to=["ann@client.example", "ANN@client.example", "bob@client.example"])
    assert entry(db, public_id).to == ("ann@client.example", "bob@client.example")


# delivery


def test_a_due_message_is_sent_with_its_headers_body_and_attachments(db):
    pdf = Attachment("INV-000001.pdf", "application/pdf", b"%PDF-1.4 invoice")
    public_id = queue(db, reply_to="owner@acme.example", attachments=[pdf])
    clock, sender = Clock(), FakeSender()

    report = deliver(db, clock, sender)

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    (message,) = sender.messages
    assert message["From"] == "Acme Studio <billing@acme.example>"
    assert message["To"] == "ann@client.example"
    assert message["Reply-To"] == "owner@acme.example"
    assert message["Subject"] == "Invoice INV-000001"
    assert message["Message-ID"] == f"<{public_id}@acme.example>"
    assert message.get_body(("plain",)).get_content() == "Please find it attached.\n"
    (attached,) = message.iter_attachments()
    assert attached.get_filename() == "INV-000001.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == b"%PDF-1.4 invoice"
    sent = entry(db, public_id)
    assert (sent.status, sent.attempts, sent.sent_at) == ("sent", 1, NOW)


def test_a_sent_message_is_not_sent_again_and_is_kept(db):
    queue(db)
    clock, sender = Clock(), FakeSender()
    deliver(db, clock, sender)
    clock.advance(days=1)

    assert deliver(db, clock, sender).attempted == 0
    assert len(sender.messages) == 1
    assert count(db, OutboxEmail) == 1


def test_a_message_is_not_sent_before_it_is_due(db):
    queue(db)
    sender = FakeSender()
    assert deliver(db, Clock(NOW - timedelta(seconds=1)), sender).attempted == 0
    assert sender.messages == []


def test_every_attempt_is_recorded_with_its_error(db):
    public_id = queue(db)
    clock, sender = Clock(), FakeSender(ConnectionRefusedError(111, "Connection refused"))
    deliver(db, clock, sender)
    clock.advance(minutes=1)
    sender.failure = None
    deliver(db, clock, sender)

    with db.reading() as session:
        attempts = session.execute(
            select(
                EmailDeliveryAttempt.succeeded, EmailDeliveryAttempt.error, EmailDeliveryAttempt.attempted_at
            ).order_by(EmailDeliveryAttempt.id)
        ).all()
    assert [(a.succeeded, a.attempted_at) for a in attempts] == [
        (False, NOW),
        (True, NOW + timedelta(minutes=1)),
    ]
    assert "Connection refused" in attempts[0].error
    assert attempts[1].error == ""
    assert entry(db, public_id).last_error == ""


def test_backoff_doubles_from_one_minute_up_to_an_hour():
    policy = RetryPolicy()
    assert [policy.delay_after(n) / timedelta(minutes=1) for n in range(1, 10)] == [
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
        60,
    ]


def test_a_failed_attempt_is_retried_after_the_backoff(db):
    public_id = queue(db)
    clock, sender = Clock(), FakeSender(smtplib.SMTPServerDisconnected("Connection unexpectedly closed"))

    report = deliver(db, clock, sender)

    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    waiting = entry(db, public_id)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at == NOW + timedelta(minutes=1)
    assert "Connection unexpectedly closed" in waiting.last_error
    clock.advance(seconds=59)
    assert deliver(db, clock, sender).attempted == 0
    clock.advance(seconds=1)
    sender.failure = None
    assert deliver(db, clock, sender).sent == 1


def test_after_eight_failed_attempts_the_message_is_failed_and_kept(db):
    public_id = queue(db)
    clock, sender = Clock(), FakeSender(TimeoutError("timed out"))
    delays = []
    for _ in range(7):
        deliver(db, clock, sender)
        waiting = entry(db, public_id)
        assert waiting.status == "pending"
        delays.append(waiting.next_attempt_at - clock.now)
        clock.now = waiting.next_attempt_at

    report = deliver(db, clock, sender)

    assert report.failed == 1
    failed = entry(db, public_id)
    assert (failed.status, failed.attempts) == ("failed", 8)
    assert [d / timedelta(minutes=1) for d in delays] == [1, 2, 4, 8, 16, 32, 60]
    assert count(db, EmailDeliveryAttempt) == 8
    clock.advance(days=30)
    assert deliver(db, clock, sender).attempted == 0
    assert count(db, OutboxEmail) == 1


def test_recipients_refused_for_good_fail_the_message_at_once(db):
    public_id = queue(db)
    refusal = smtplib.SMTPRecipientsRefused({"ann@client.example": (550, b"5.1.1 No such user")})

    assert deliver(db, Clock(), FakeSender(refusal)).failed == 1
    failed = entry(db, public_id)
    assert failed.status == "failed"
    assert "550 5.1.1 No such user" in failed.last_error


def test_recipients_refused_for_now_are_retried(db):
    public_id = queue(db)
    refusal = smtplib.SMTPRecipientsRefused({"ann@client.example": (451, b"4.7.1 Try again later")})

    assert deliver(db, Clock(), FakeSender(refusal)).retrying == 1
    assert entry(db, public_id).status == "pending"


def test_a_message_accepted_for_some_recipients_is_sent_and_names_the_others(db):
    public_id = queue(db, to=["ann@client.example", "gone@client.example"])

    class PartlyRefusing(FakeSender):
        def send(self, message):
            super().send(message)
            return {"gone@client.example": (550, b"5.1.1 No such user")}

    assert deliver(db, Clock(), PartlyRefusing()).sent == 1
    sent = entry(db, public_id)
    assert sent.status == "sent"
    assert "gone@client.example: 550 5.1.1 No such user" in sent.last_error
    assert "ann@client.example" not in sent.last_error


def test_a_stale_sending_claim_is_picked_up_again(db):
    public_id = queue(db)
    clock = Clock()
    with pytest.raises(ProcessStopped):
        deliver(db, clock, FakeSender(ProcessStopped()))
    assert entry(db, public_id).status == "sending"
    sender = FakeSender()

    clock.advance(minutes=1)
    assert deliver(db, clock, sender).attempted == 0  # another sender may still be at work on it
    clock.now = NOW + CLAIM_LEASE
    assert deliver(db, clock, sender).sent == 1

    assert len(sender.messages) == 1
    assert entry(db, public_id).status == "sent"


def test_no_database_connection_is_held_while_the_server_is_talked_to(db):
    queue(db)
    held = []

    class WatchingSender(FakeSender):
        def send(self, message):
            held.append(db.engine.pool.checkedout())
            return super().send(message)

    deliver(db, Clock(), WatchingSender())
    assert held == [0]


def test_a_message_claimed_by_one_sender_is_not_taken_by_another(db):
    queue(db)
    second_reports = []

    class SenderWithCompany(FakeSender):
        def send(self, message):
            second_reports.append(deliver(db, Clock(), FakeSender()))
            return super().send(message)

    first = SenderWithCompany()
    deliver(db, Clock(), first)

    assert len(first.messages) == 1
    assert [r.attempted for r in second_reports] == [0]


def test_two_senders_at_once_send_every_message_exactly_once(db):
    subjects = [f"Invoice INV-{n:06d}" for n in range(20)]
    for subject in subjects:
        queue(db, subject=subject)

    class SlowSender(FakeSender):
        def send(self, message):
            time.sleep(0.005)
            return super().send(message)

    sender = SlowSender()
    start_together = threading.Barrier(3)

    def run_sender():
        start_together.wait()
        deliver(db, Clock(), sender, batch=20)

    workers = [threading.Thread(target=run_sender) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert sorted(str(m["Subject"]) for m in sender.messages) == subjects
    assert {e.status for e in list_outbox(db, limit=100)} == {"sent"}


def test_a_batch_sends_at_most_its_size(db):
    for n in range(3):
        queue(db, subject=f"Invoice {n}")
    sender = FakeSender()
    assert deliver(db, Clock(), sender, batch=2).sent == 2
    assert deliver(db, Clock(), sender, batch=2).sent == 1


def test_the_message_id_stays_the_same_on_every_attempt(db):
    queue(db)
    clock, sender = Clock(), FakeSender()
    ids = []

    class RecordingFailure(FakeSender):
        def send(self, message):
            ids.append(message["Message-ID"])
            raise OSError("Network is unreachable")

    deliver(db, clock, RecordingFailure())
    clock.advance(minutes=1)
    deliver(db, clock, sender)
    assert ids == [sender.messages[0]["Message-ID"]]


# the outbox screen


def test_list_outbox_shows_the_newest_first_up_to_the_limit(db):
    for n in range(3):
        with db.transaction() as session:
            queue_email(
                session,
                to=["ann@client.example"],
                subject=f"Message {n}",
                body_text="Hi",
                now=NOW + timedelta(minutes=n),
            )

    assert [e.subject for e in list_outbox(db, limit=2)] == ["Message 2", "Message 1"]


def test_retry_now_makes_a_failed_message_pending_and_due(db):
    public_id = queue(db)
    clock = Clock()
    deliver(db, clock, FakeSender(OSError("down")), policy=RetryPolicy(max_attempts=1))
    assert entry(db, public_id).status == "failed"
    clock.advance(hours=3)

    retried = retry_now(db, public_id, clock.now)

    assert (retried.status, retried.next_attempt_at) == ("pending", clock.now)
    sender = FakeSender()
    assert deliver(db, clock, sender).sent == 1
    assert entry(db, public_id).status == "sent"


def test_retry_now_gives_a_failed_message_one_more_attempt(db):
    public_id = queue(db)
    clock, sender = Clock(), FakeSender(OSError("down"))
    policy = RetryPolicy(max_attempts=1)
    deliver(db, clock, sender, policy=policy)
    retry_now(db, public_id, clock.now)

    assert deliver(db, clock, sender, policy=policy).failed == 1
    assert entry(db, public_id).attempts == 2


def test_retry_now_refuses_a_sent_message(db):
    public_id = queue(db)
    deliver(db, Clock(), FakeSender())
    with pytest.raises(InvalidStatusChange):
        retry_now(db, public_id, NOW)


def test_retry_now_of_an_unknown_message_is_not_found(db):
    with pytest.raises(NotFound):
        retry_now(db, "no-such-message", NOW)


# configuration


def smtp_settings(**values):
    return Settings(**values)


def test_no_smtp_host_means_no_config_and_a_startup_notice():
    assert SmtpConfig.from_settings(smtp_settings(smtp_host="")) is None
    assert startup_notice(None) == NOT_CONFIGURED_NOTICE
    assert "PORTAL_SMTP_HOST" in NOT_CONFIGURED_NOTICE


def test_smtp_settings_make_a_config_that_does_not_show_its_password():
    config = SmtpConfig.from_settings(
        smtp_settings(
            smtp_host="smtp.example",
            smtp_port=465,
            smtp_security="ssl",
            smtp_user="mailer",
            smtp_password="s3cret-pass",
            smtp_from="Acme <billing@acme.example>",
        )
    )
    assert config is not None
    assert (config.host, config.port, config.security) == ("smtp.example", 465, "ssl")
    assert (config.user, config.password, config.from_address) == (
        "mailer",
        "s3cret-pass",
        "Acme <billing@acme.example>",
    )
    assert "s3cret-pass" not in repr(config)
    assert startup_notice(config) is None


def test_the_login_name_is_the_from_address_when_none_is_set():
    config = SmtpConfig.from_settings(
        smtp_settings(smtp_host="smtp.example", smtp_user="billing@acme.example")
    )
    assert config is not None
    assert config.from_address == "billing@acme.example"


def test_an_smtp_host_without_a_from_address_is_a_settings_error():
    with pytest.raises(SettingsError, match="PORTAL_SMTP_FROM"):
        SmtpConfig.from_settings(smtp_settings(smtp_host="smtp.example", smtp_user="mailer"))
