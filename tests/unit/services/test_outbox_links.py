"""No usable link is stored in clear: an invitation's or a reset's link waits in the outbox sealed, is
opened only for the message being sent, and is gone from the database once sent or expired."""

from __future__ import annotations

import asyncio
import re

from cryptography.fernet import Fernet
from sqlalchemy import select, update

from models import Organization, OutboxEmail, sealed
from services.i18n import using_language
from services.invitations import (
    INVITE_VALIDITY,
    check_token,
    invite_contact,
    request_password_reset,
    seal_plain_links,
)
from services.mailer import BackgroundSender, deliver_due
from services.outbox import (
    LINK_EXPIRED,
    LINK_HIDDEN,
    LINK_SENT,
    expire_links,
    links_for_delivery,
    list_outbox,
)
from tests.factories import NOW, Clock, make_client, make_customer, make_organization
from tests.unit.services.test_outbox import CONFIG, FakeSender

BASE_URL = "https://portal.acme.example"
LINK = re.compile(r"https://portal\.acme\.example/set-password\?token=([\w-]+)")


def invite(db, clock):
    client_id = make_client(db, make_organization(db))
    invite_contact(
        db, client_id, name="Cleo Jones", email="cleo@client.example", base_url=BASE_URL, clock=clock
    )


def stored_body(db) -> str:
    with db.reading() as session:
        return session.scalars(select(OutboxEmail.body_text)).one()


def test_a_waiting_invitation_holds_its_link_sealed_and_the_sent_e_mail_has_it(db):
    clock = Clock()
    invite(db, clock)

    stored = stored_body(db)
    assert "token=" not in stored
    assert "sealed:v1:" in stored

    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)
    [message] = sender.messages
    [token] = LINK.findall(message.get_content())
    assert check_token(db, token, clock=clock).email == "cleo@client.example"  # the link works


def test_once_sent_the_link_is_gone_from_the_stored_message(db):
    clock = Clock()
    invite(db, clock)

    deliver_due(db, CONFIG, clock=clock, sender=FakeSender())

    stored = stored_body(db)
    assert LINK_SENT in stored
    assert "sealed:" not in stored
    assert "token=" not in stored


def test_a_reset_link_is_sealed_too(db):
    make_customer(db, email="ann@client.example")

    request_password_reset(db, "ann@client.example", base_url=BASE_URL, ip_address="10.0.0.1", clock=Clock())

    stored = stored_body(db)
    assert "token=" not in stored
    assert "sealed:v1:" in stored
    assert LINK.search(links_for_delivery(stored, NOW))


def test_an_expired_link_is_removed_from_a_message_still_waiting_and_never_sent(db):
    clock = Clock()
    invite(db, clock)
    with db.transaction() as session:  # the server refused it for good: it waits for "Retry now"
        session.execute(update(OutboxEmail).values(status="failed"))

    clock.advance(hours=71)
    assert expire_links(db, clock()) == 0  # still valid: kept, sealed
    assert "sealed:v1:" in stored_body(db)
    clock.advance(hours=1)
    assert expire_links(db, clock()) == 1

    stored = stored_body(db)
    assert LINK_EXPIRED in stored
    assert "sealed:" not in stored
    with db.transaction() as session:  # retried now: the e-mail says the link has expired
        session.execute(update(OutboxEmail).values(status="pending", next_attempt_at=clock()))
    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)
    assert LINK_EXPIRED in sender.messages[0].get_content()


def test_a_link_past_its_expiry_is_not_sent_even_before_the_clean_up(db):
    clock = Clock()
    invite(db, clock)
    clock.advance(seconds=INVITE_VALIDITY.total_seconds())

    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)

    body = sender.messages[0].get_content()
    assert LINK_EXPIRED in body
    assert "token=" not in body


def test_a_link_sealed_under_a_key_since_lost_is_not_sent(db, monkeypatch):
    clock = Clock()
    invite(db, clock)
    monkeypatch.setattr(sealed, "_fernet", Fernet(Fernet.generate_key()))  # the secret key was replaced

    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)

    assert LINK_EXPIRED in sender.messages[0].get_content()


def test_the_sender_removes_expired_links_even_while_no_server_is_set(db):
    clock = Clock()
    invite(db, clock)
    clock.advance(hours=73)

    sender = BackgroundSender(db, lambda: None, clock=clock, interval=0.05)

    async def one_round() -> None:
        running = asyncio.create_task(sender.run())
        await asyncio.sleep(0.3)
        sender.stop()
        await running

    asyncio.run(one_round())
    assert LINK_EXPIRED in stored_body(db)


def test_the_outbox_screen_shows_the_message_with_its_link_hidden(db):
    invite(db, Clock())

    [entry] = list_outbox(db, limit=10)

    assert LINK_HIDDEN in entry.body
    assert "Choose your password here" in entry.body
    assert "sealed" not in entry.body


def test_the_outbox_screen_shows_the_hidden_and_removed_links_in_its_readers_language(db):
    clock = Clock()
    invite(db, clock)
    other = make_client(db, make_organization(db, "Other Business"))
    invite_contact(db, other, name="Dev Patel", email="dev@client.example", base_url=BASE_URL, clock=clock)
    deliver_due(db, CONFIG, clock=clock, sender=FakeSender(), batch=1)

    with using_language("de"):
        bodies = {entry.status: entry.body for entry in list_outbox(db, limit=10)}

    assert "[Link nach dem Senden entfernt]" in bodies["sent"]
    assert "[Link verborgen]" in bodies["pending"]
    with db.reading() as session:  # stored as it was written, in no reader's language
        stored = session.scalars(select(OutboxEmail.body_text).where(OutboxEmail.status == "sent")).one()
    assert LINK_SENT in stored


def test_links_queued_in_clear_by_an_earlier_version_are_sealed_or_removed_at_start_up(db):
    clock = Clock()
    invite(db, clock)
    deliver_due(db, CONFIG, clock=clock, sender=(sender := FakeSender()))
    link = LINK.search(sender.messages[0].get_content())
    assert link is not None
    with db.transaction() as session:  # as an earlier version queued them: the link in clear, waiting
        session.execute(
            update(OutboxEmail).values(status="pending", body_text=f"Choose it here:\n{link[0]}\n")
        )

    assert seal_plain_links(db, clock=clock) == 1
    stored = stored_body(db)
    assert "token=" not in stored
    assert link[0] in links_for_delivery(stored, clock())

    with db.transaction() as session:
        session.execute(update(OutboxEmail).values(body_text=f"Choose it here:\n{link[0]}\n"))
    clock.advance(hours=73)
    assert seal_plain_links(db, clock=clock) == 1
    assert stored_body(db) == f"Choose it here:\n{LINK_EXPIRED}\n"


def test_a_used_link_queued_in_clear_is_removed_at_start_up(db):
    from services.invitations import set_password

    clock = Clock()
    invite(db, clock)
    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)
    link = LINK.search(sender.messages[0].get_content())
    assert link is not None
    set_password(db, link[1], "Quiet-Harbor-Lantern-42", "Quiet-Harbor-Lantern-42", clock=clock, rounds=4)
    with db.transaction() as session:
        session.execute(update(OutboxEmail).values(status="failed", body_text=link[0]))

    seal_plain_links(db, clock=clock)

    assert stored_body(db) == LINK_EXPIRED


def invite_in_german(db, clock):
    client_id = make_client(db, organization := make_organization(db))
    with db.transaction() as session:  # the business writes to people who chose no language in German
        session.get_one(Organization, organization).default_language = "de"
    invite_contact(
        db, client_id, name="Jonas Weber", email="jonas@client.example", base_url=BASE_URL, clock=clock
    )


GERMAN_EXPIRED = "[Dieser Link ist abgelaufen: Bitte fordern Sie einen neuen an.]"


def test_a_link_that_expires_before_its_message_is_sent_is_replaced_in_the_message_s_language(db):
    clock = Clock()
    invite_in_german(db, clock)
    clock.advance(seconds=INVITE_VALIDITY.total_seconds())

    sender = FakeSender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)

    body = sender.messages[0].get_content()
    assert GERMAN_EXPIRED in body
    assert LINK_EXPIRED not in body


def test_a_link_removed_from_a_waiting_message_once_expired_is_replaced_in_its_language(db):
    clock = Clock()
    invite_in_german(db, clock)
    with db.transaction() as session:
        session.execute(update(OutboxEmail).values(status="failed"))
    clock.advance(seconds=INVITE_VALIDITY.total_seconds())

    assert expire_links(db, clock()) == 1

    stored = stored_body(db)
    assert GERMAN_EXPIRED in stored
    assert "sealed:" not in stored
