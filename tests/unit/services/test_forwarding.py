"""Forwarding an invoice queues one e-mail with the PDF attached, names the business, and is limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEvent, OutboxAttachment, OutboxEmail
from services.errors import ForwardLimitReached, InvalidEmail, NotFound
from services.forwarding import FORWARDS_PER_HOUR, forward_invoice, split_addresses
from services.principal import Principal
from tests.factories import (
    NOW,
    TODAY,
    Clock,
    make_client,
    make_organization,
    make_portal_user,
    make_sent_invoice,
)


@pytest.fixture
def setup(db):
    organization = make_organization(db)
    client = make_client(db, organization)
    other = make_client(db, organization, name="Other Co")
    user = make_portal_user(db, client, "ann@client.example")
    return {
        "principal": Principal(user, client, organization, "Ann Smith", "ann@client.example", 1),
        "invoice": make_sent_invoice(db, client, 12345),
        "foreign": make_sent_invoice(db, other, 500),
    }


def outbox(db):
    with db.reading() as session:
        return session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def forward(db, setup, clock, to=("accounts@partner.example",), note=""):
    return forward_invoice(db, setup["principal"], setup["invoice"].public_id, recipients=list(to), note=note,
                           today=TODAY, clock=clock)  # fmt: skip


def test_a_forward_queues_one_email_with_the_pdf_and_records_it(db, setup):
    receipt = forward(db, setup, Clock(), to=["A@Partner.example", "b@partner.example", "a@partner.example"],
                      note="For your records")  # fmt: skip
    assert receipt.recipients == ("a@partner.example", "b@partner.example")
    [email] = outbox(db)
    assert email.to_addresses == "a@partner.example,b@partner.example"
    assert email.subject == "Invoice INV-00001 from Acme Studio"
    assert "Ann Smith forwarded you invoice INV-00001 from Acme Studio." in email.body_text
    assert "For your records" in email.body_text
    assert "$123.45" in email.body_text
    assert email.reply_to == "hello@acme.example"
    with db.reading() as session:
        [attachment] = session.scalars(select(OutboxAttachment)).all()
        forwarded = session.scalar(select(func.count()).where(AuditEvent.action == "invoice.forwarded"))
    assert attachment.filename == "INV-00001.pdf"
    assert attachment.mime_type == "application/pdf"
    assert attachment.content.startswith(b"%PDF-")
    assert forwarded == 1


@pytest.mark.parametrize(
    "to",
    [
        [],
        ["not-an-address"],
        ["ok@partner.example", "bad\r\nBcc: victim@example.com"],
        [f"p{n}@x.example" for n in range(6)],
    ],
)
def test_bad_addresses_are_refused_and_nothing_is_queued(db, setup, to):
    with pytest.raises(InvalidEmail):
        forward(db, setup, Clock(), to=to)
    assert outbox(db) == []


def test_the_twenty_first_forward_in_an_hour_is_refused(db, setup):
    clock = Clock()
    for _ in range(FORWARDS_PER_HOUR):
        forward(db, setup, clock)
        clock.now += timedelta(minutes=2)
    with pytest.raises(ForwardLimitReached) as refused:
        forward(db, setup, clock)
    assert refused.value.until == NOW + timedelta(hours=1)
    assert len(outbox(db)) == FORWARDS_PER_HOUR
    clock.now = NOW + timedelta(hours=1, seconds=1)
    forward(db, setup, clock)
    assert len(outbox(db)) == FORWARDS_PER_HOUR + 1


def test_another_clients_invoice_cannot_be_forwarded(db, setup):
    with pytest.raises(NotFound):
        forward_invoice(db, setup["principal"], setup["foreign"].public_id, recipients=["x@y.example"],
                        today=TODAY, clock=Clock())  # fmt: skip
    assert outbox(db) == []


def test_addresses_split_as_people_type_them():
    assert split_addresses(" a@x.example, b@x.example;c@x.example\nd@x.example ") == [
        "a@x.example", "b@x.example", "c@x.example", "d@x.example",
    ]  # fmt: skip
