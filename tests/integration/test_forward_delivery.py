"""A forwarded invoice reaches a real SMTP server (aiosmtpd on loopback) with its PDF attached."""

from __future__ import annotations

import io

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from services.forwarding import forward_invoice
from services.mailer import deliver_due
from services.principal import Principal
from tests.factories import NOW, TODAY, make_client, make_organization, make_portal_user, make_sent_invoice
from tests.integration.test_smtp_delivery import Inbox, config_for, free_port


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_forwarded_invoice_arrives_with_its_pdf(db, smtp_server):
    inbox, port = smtp_server
    organization = make_organization(db)
    client = make_client(db, organization)
    user = make_portal_user(db, client, "ann@client.example")
    invoice = make_sent_invoice(db, client, 45600)
    principal = Principal(user, client, organization, "Ann", "ann@client.example", 1)
    forward_invoice(db, principal, invoice.public_id, recipients=["books@partner.example"], today=TODAY,
                    clock=lambda: NOW)  # fmt: skip

    report = deliver_due(db, config_for(port), clock=lambda: NOW)

    assert report.sent == 1
    [message] = inbox.messages()
    assert message["To"] == "books@partner.example"
    assert message["Subject"] == "Invoice INV-00001 from Acme Studio"
    assert "from Acme Studio" in message.get_body(preferencelist=("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "INV-00001.pdf"
    assert attachment.get_content_type() == "application/pdf"
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "INV-00001" in text
    assert "$456.00" in text
