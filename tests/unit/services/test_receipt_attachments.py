"""A receipt e-mail carries the receipt's PDF, which the sender renders when it first sends it."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from models import OutboxAttachment, OutboxEmail
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.mailer import RetryPolicy, SmtpConfig, deliver_due
from services.online_payments import pay, plan_pay_all
from services.rendered_attachments import read_spec, receipt_attachment
from tests.factories import Clock, make_customer, make_sent_invoice

CONFIG = SmtpConfig(host="127.0.0.1", port=2525, security="none", from_address="billing@acme.example")
CARD = ChargeRequest("", 0, "USD", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))


class Sender:
    def __init__(self) -> None:
        self.messages: list = []

    def send(self, message):
        self.messages.append(message)
        return {}

    def close(self):
        pass


@pytest.fixture
def paid(db):
    clock = Clock()
    principal = make_customer(db)
    make_sent_invoice(db, principal.client_id, 12000, due_in_days=10)
    outcome = pay(db, SandboxGateway(clock=clock), principal, plan_pay_all(db, principal), CARD, clock=clock)
    return outcome, clock


def attachments(db):
    with db.reading() as session:
        return session.execute(
            select(OutboxEmail.to_addresses, OutboxAttachment.filename, OutboxAttachment.content)
            .join(OutboxEmail, OutboxEmail.id == OutboxAttachment.email_id)
            .order_by(OutboxAttachment.id)
        ).all()


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_the_payment_names_the_receipt_and_renders_nothing(db, paid):
    outcome, _ = paid
    [(to, filename, content)] = attachments(db)  # the customer's receipt only, not the business's notice
    assert (to, filename, content) == ("ann@client.example", f"Receipt-{outcome.receipt_number}.pdf", b"")


def test_the_sender_renders_the_receipt_and_sends_it_attached(db, paid):
    outcome, clock = paid
    sender = Sender()
    assert deliver_due(db, CONFIG, clock=clock, sender=sender).sent == 2
    receipt = next(m for m in sender.messages if m["To"] == "ann@client.example")
    [pdf] = list(receipt.iter_attachments())
    assert pdf.get_filename() == f"Receipt-{outcome.receipt_number}.pdf"
    assert pdf.get_content_type() == "application/pdf"
    text = pdf_text(pdf.get_content())
    assert outcome.receipt_number in text
    assert "$120.00" in text
    notice = next(m for m in sender.messages if m["To"] != "ann@client.example")
    assert list(notice.iter_attachments()) == []
    [(_, _, kept)] = attachments(db)
    assert kept == pdf.get_content()  # kept, so a message sent again carries the same bytes


def test_a_receipt_that_cannot_be_rendered_is_retried_and_nothing_is_lost(db, paid, monkeypatch):
    outcome, clock = paid

    def broken(db, spec):
        raise RuntimeError("the fonts are missing")

    monkeypatch.setattr("services.mailer.render_attachment", broken)
    sender = Sender()
    report = deliver_due(db, CONFIG, clock=clock, sender=sender, policy=RetryPolicy())
    assert (report.sent, report.retrying) == (1, 1)  # the business's notice went; the receipt waits
    with db.reading() as session:
        waiting = session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_addresses == "ann@client.example")
        ).one()
        assert (waiting.status, waiting.attempts) == ("pending", 1)
        assert "could not be rendered" in waiting.last_error
    monkeypatch.undo()
    clock.advance(hours=2)
    assert deliver_due(db, CONFIG, clock=clock, sender=sender).sent == 1
    assert outcome.receipt_number in pdf_text(next(sender.messages[-1].iter_attachments()).get_content())


def test_the_spec_names_the_client_payment_language_and_time_zone():
    attachment = receipt_attachment(7, "pAbC123", "RCPT-00009", "de", "Europe/Berlin")
    spec = read_spec(attachment.rendered_from)
    assert (spec.kind, spec.client_id, spec.public_id, spec.language, spec.time_zone) == (
        "receipt",
        7,
        "pAbC123",
        "de",
        "Europe/Berlin",
    )
    assert attachment.filename == "Receipt-RCPT-00009.pdf"
    with pytest.raises(ValueError, match="no such rendered attachment"):
        read_spec("statement:7:x:de:")
