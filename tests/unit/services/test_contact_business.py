"""Send Email: kept in the business's inbox and e-mailed to its address with the customer as
reply-to; empty, over-long or multi-line subjects refused; 10 messages an hour per client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Message, Organization, OutboxEmail
from services.contact_business import MESSAGES_PER_HOUR, send_message
from services.errors import (
    MessageLimitReached,
    TextHasControlCharacters,
    TextRequired,
    TextTooLong,
    human_message,
)
from tests.factories import NOW, Clock, make_customer
from tests.snapshots import snapshot


@pytest.fixture
def ann(db):
    return make_customer(db)


def outbox(db):
    with db.reading() as session:
        return session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def messages(db):
    with db.reading() as session:
        return session.scalars(select(Message).order_by(Message.id)).all()


def test_a_message_is_kept_and_mailed_to_the_business_with_the_customer_as_reply_to(db, ann):
    sent = send_message(db, ann, "  Invoice question ", "Hello,\r\nis INV-00001 final?\n\nAnn", clock=Clock())
    assert sent.emailed
    assert sent.messages_left_this_hour == MESSAGES_PER_HOUR - 1
    [message] = messages(db)
    assert message.public_id == sent.public_id
    assert (message.client_id, message.portal_user_id) == (ann.client_id, ann.portal_user_id)
    assert (message.subject, message.body, message.created_at) == (
        "Invoice question",
        "Hello,\nis INV-00001 final?\n\nAnn",
        NOW,
    )
    [email] = outbox(db)
    assert email.to_addresses == "hello@acme.example"
    assert email.reply_to == "ann@client.example"
    assert email.subject == "[Portal] Invoice question — from Client Ltd"
    assert "Ann (ann@client.example) of Client Ltd" in email.body_text
    assert "is INV-00001 final?" in email.body_text
    assert email.client_id == ann.client_id
    with db.reading() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "message.sent")).all()
    assert event.subject_id == message.id


@pytest.mark.parametrize(
    ("subject", "body", "field", "sentence"),
    [
        ("", "Hello", "subject", "Please enter a subject."),
        ("   ", "Hello", "subject", "Please enter a subject."),
        ("Question", "", "message", "Please write a message."),
        ("Question", " \n\t ", "message", "Please write a message."),
    ],
)
def test_an_empty_subject_or_message_is_refused_and_nothing_changes(db, ann, subject, body, field, sentence):
    before = snapshot(db)
    with pytest.raises(TextRequired) as refused:
        send_message(db, ann, subject, body, clock=Clock())
    assert refused.value.field == field
    assert human_message(refused.value) == sentence
    assert snapshot(db) == before


def test_over_long_texts_are_refused(db, ann):
    before = snapshot(db)
    with pytest.raises(TextTooLong) as subject:
        send_message(db, ann, "S" * 151, "Hello", clock=Clock())
    assert human_message(subject.value) == "The subject can be at most 150 characters long."
    with pytest.raises(TextTooLong) as body:
        send_message(db, ann, "Question", "m" * 5001, clock=Clock())
    assert human_message(body.value) == "The message can be at most 5,000 characters long."
    assert snapshot(db) == before
    send_message(db, ann, "S" * 150, "m" * 5000, clock=Clock())
    assert len(outbox(db)[0].subject) <= 300


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.com", "Tab\there", "Null\x00"])
def test_a_subject_with_line_breaks_or_control_characters_is_refused(db, ann, subject):
    before = snapshot(db)
    with pytest.raises(TextHasControlCharacters) as refused:
        send_message(db, ann, subject, "Hello", clock=Clock())
    assert "single line" in human_message(refused.value)
    assert snapshot(db) == before


def test_the_eleventh_message_in_an_hour_is_refused(db, ann):
    clock = Clock()
    for number in range(MESSAGES_PER_HOUR):
        send_message(db, ann, f"Question {number}", "Hello", clock=clock)
        clock.advance(minutes=5)
    before = snapshot(db)
    with pytest.raises(MessageLimitReached) as refused:
        send_message(db, ann, "One more", "Hello", clock=clock)
    assert refused.value.until == NOW + timedelta(hours=1)
    assert human_message(refused.value, now=clock.now) == (
        "You can send 10 messages an hour. Please try again in 10 minutes."
    )
    assert snapshot(db) == before
    other = make_customer(db, ann.organization_id, name="Other Co", email="bob@other.example")
    assert send_message(db, other, "Hello", "From another client", clock=clock).emailed
    clock.now = NOW + timedelta(hours=1, seconds=1)
    assert send_message(db, ann, "One more", "Hello", clock=clock).messages_left_this_hour == 0


def test_without_a_business_address_the_message_is_still_kept(db, ann):
    with db.transaction() as session:
        session.get_one(Organization, ann.organization_id).email = ""
    sent = send_message(db, ann, "Question", "Hello", clock=Clock())
    assert not sent.emailed
    assert [message.public_id for message in messages(db)] == [sent.public_id]
    assert outbox(db) == []


def test_a_long_client_name_is_shortened_to_fit_the_email_subject(db):
    long_name = "Very Long Company Name " * 8
    customer = make_customer(db, name=long_name.strip()[:200])
    send_message(db, customer, "Q" * 150, "Hello", clock=Clock())
    subject = outbox(db)[0].subject
    assert len(subject) == 300
    assert subject.startswith("[Portal] " + "Q" * 150 + " — from Very Long Company Name")
    assert subject.endswith("…")
