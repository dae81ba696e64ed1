"""Delivery to a real SMTP server (aiosmtpd on loopback): what arrives, what happens while the server is
down, and the background sender."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.mailer import BackgroundSender, SmtpConfig, deliver_due
from services.outbox import Attachment, list_outbox, queue_email
from tests.factories import NOW, Clock

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.peers: list = []  # the client's address and port: one per connection

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - the name aiosmtpd calls
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def start_server(port):
    """Starts an SMTP server on ``port`` when called; nothing listens there before."""
    controllers = []

    def start(**options):
        inbox = Inbox()
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, server_hostname="localhost", **options
        )
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


def config_for(port: int, **values) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        from_address="Acme Studio <billing@acme.example>",
        timeout=5,
        helo_name="localhost",
        **values,
    )


def queue_invoice_email(db, now=NOW) -> str:
    with db.transaction() as session:
        queue_email(
            session,
            to=["ann@client.example", "accounts@client.example"],
            subject="Invoice INV-000042 from Acme Studio",
            body_text="Dear Ann,\n\nyour invoice INV-000042 is attached.\n\nAcme Studio\n",
            reply_to="owner@acme.example",
            attachments=[Attachment("INV-000042.pdf", "application/pdf", PDF)],
            now=now,
        )
    (entry,) = list_outbox(db, limit=1)
    return entry.public_id


def test_the_server_receives_the_message_once_with_its_attachment(db, port, start_server):
    inbox = start_server()
    queue_invoice_email(db)
    clock = Clock()

    report = deliver_due(db, config_for(port), clock=clock)
    again = deliver_due(db, config_for(port), clock=clock)

    assert (report.sent, again.attempted) == (1, 0)
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "billing@acme.example"
    assert envelope.rcpt_tos == ["ann@client.example", "accounts@client.example"]
    (message,) = inbox.messages()
    assert message["From"] == "Acme Studio <billing@acme.example>"
    assert message["To"] == "ann@client.example, accounts@client.example"
    assert message["Reply-To"] == "owner@acme.example"
    assert message["Subject"] == "Invoice INV-000042 from Acme Studio"
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == (
        "Dear Ann,\n\nyour invoice INV-000042 is attached.\n\nAcme Studio\n"
    )
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "INV-000042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    (entry,) = list_outbox(db, limit=10)
    assert (entry.status, entry.attempts, entry.sent_at) == ("sent", 1, NOW)


def test_while_the_server_is_down_the_message_waits_and_is_delivered_once_it_is_up(db, port, start_server):
    public_id = queue_invoice_email(db)
    clock = Clock()

    down = deliver_due(db, config_for(port), clock=clock)

    assert (down.sent, down.retrying) == (0, 1)
    (waiting,) = list_outbox(db, limit=10)
    assert waiting.public_id == public_id
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert waiting.next_attempt_at > NOW
    assert "refused" in waiting.last_error.lower()

    inbox = start_server()
    assert deliver_due(db, config_for(port), clock=clock).attempted == 0  # not due yet
    clock.now = waiting.next_attempt_at + timedelta(seconds=1)
    up = deliver_due(db, config_for(port), clock=clock)
    deliver_due(db, config_for(port), clock=clock)

    assert up.sent == 1
    assert len(inbox.envelopes) == 1
    (sent,) = list_outbox(db, limit=10)
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 2, "")


def test_the_sender_logs_in_when_a_user_is_set(db, port, start_server):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret-pass", handled=False)

    inbox = start_server(authenticator=authenticator, auth_require_tls=False)
    queue_invoice_email(db)

    report = deliver_due(db, config_for(port, user="mailer", password="s3cret-pass"), clock=Clock())

    assert report.sent == 1
    assert logins == [(b"mailer", b"s3cret-pass")]
    assert len(inbox.envelopes) == 1


def test_a_wrong_password_is_a_failed_attempt_that_names_the_problem(db, port, start_server):
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)  # False: the server answers 535

    inbox = start_server(authenticator=authenticator, auth_require_tls=False)
    queue_invoice_email(db)

    report = deliver_due(db, config_for(port, user="mailer", password="wrong"), clock=Clock())

    assert report.retrying == 1
    assert inbox.envelopes == []
    (entry,) = list_outbox(db, limit=10)
    assert "SMTPAuthenticationError" in entry.last_error
    assert "wrong" not in entry.last_error


def test_several_messages_go_through_one_connection(db, port, start_server):
    inbox = start_server()
    for n in range(3):
        queue_invoice_email(db, now=NOW + timedelta(seconds=n))
    clock = Clock(NOW + timedelta(minutes=1))

    report = deliver_due(db, config_for(port), clock=clock)

    assert report.sent == 3
    assert len(inbox.envelopes) == 3
    assert len(set(inbox.peers)) == 1


async def test_the_background_sender_delivers_queued_mail_and_stops_when_asked(db, port, start_server):
    inbox = start_server()
    sender = BackgroundSender(db, lambda: config_for(port), interval=0.05)
    running = asyncio.create_task(sender.run())
    await asyncio.sleep(0.1)
    queue_invoice_email(db, now=datetime.now(NOW.tzinfo) - timedelta(seconds=1))

    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    sender.stop()
    await asyncio.wait_for(running, timeout=5)

    assert len(inbox.envelopes) == 1
    assert list_outbox(db, limit=10)[0].status == "sent"


def test_a_set_password_link_is_not_kept_once_the_mail_is_sent(db, port, start_server):
    from sqlalchemy import select

    from models import OutboxEmail
    from services.invitations import invite_contact
    from tests.factories import make_client, make_organization

    inbox = start_server()
    client = make_client(db, make_organization(db))
    invite_contact(
        db,
        client,
        name="Robin",
        email="robin@client.example",
        base_url="https://portal.example",
        clock=lambda: NOW,
    )
    deliver_due(db, config_for(port), clock=lambda: NOW)
    [message] = inbox.messages()
    assert "/set-password?token=" in message.get_body(preferencelist=("plain",)).get_content()
    with db.reading() as session:
        kept = session.scalars(select(OutboxEmail.body_text)).one()
    assert "[link removed after sending]" in kept
    assert "token=" not in kept
