"""The background sender follows the SMTP server saved in Settings, without a restart: it waits while no
server is set and delivers to a real one (aiosmtpd on loopback) from the round after it is saved."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.errors import InvalidDetails
from services.mailer import BackgroundSender
from services.outbox import list_outbox
from services.smtp_settings import (
    RETYPE_FOR_NEW_SERVER,
    SmtpChange,
    SmtpTestFailed,
    save_smtp_settings,
    send_test_email,
    smtp_config_provider,
)
from tests.factories import NOW, make_organization
from tests.integration.test_smtp_delivery import Inbox, config_for, free_port, queue_invoice_email

NOW_REAL = datetime.now(NOW.tzinfo)


def settings_for(port: int, host: str = "127.0.0.1") -> SmtpChange:
    return SmtpChange(
        host=host,
        port=str(port),
        security="none",
        user="",
        password="",
        from_address="Acme Studio <billing@acme.example>",
    )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def inbox(port: int) -> Iterator[Inbox]:
    """An SMTP server on loopback at ``port``."""
    received = Inbox()
    controller = Controller(received, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    yield received
    controller.stop()


async def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def test_mail_waits_until_a_server_is_saved_and_then_goes_out_without_a_restart(db, port, inbox):
    organization = make_organization(db)
    queue_invoice_email(db, now=NOW_REAL - timedelta(seconds=1))
    sender = BackgroundSender(db, smtp_config_provider(db, fallback=None), interval=0.05)
    running = asyncio.create_task(sender.run())

    await asyncio.sleep(0.3)
    assert inbox.envelopes == []
    assert list_outbox(db, limit=10)[0].status == "pending"

    save_smtp_settings(db, organization, settings_for(port), staff_user_id=None)
    await wait_for(lambda: len(inbox.envelopes) == 1)
    sender.stop()
    await asyncio.wait_for(running, timeout=5)

    assert len(inbox.envelopes) == 1
    assert inbox.envelopes[0].mail_from == "billing@acme.example"
    (entry,) = list_outbox(db, limit=10)
    assert (entry.status, entry.attempts) == ("sent", 1)


async def test_saved_settings_take_the_place_of_the_environments_server(db, port, inbox):
    organization = make_organization(db)
    environment = config_for(free_port())  # nothing listens there
    save_smtp_settings(db, organization, settings_for(port), staff_user_id=None)
    queue_invoice_email(db, now=NOW_REAL - timedelta(seconds=1))
    sender = BackgroundSender(db, smtp_config_provider(db, fallback=environment), interval=0.05)
    running = asyncio.create_task(sender.run())

    await wait_for(lambda: len(inbox.envelopes) == 1)
    sender.stop()
    await asyncio.wait_for(running, timeout=5)

    assert len(inbox.envelopes) == 1


def test_the_test_email_goes_straight_to_the_server_not_through_the_outbox(db, port, inbox):
    organization = make_organization(db)

    sent_to = send_test_email(
        db, organization, settings_for(port), "owner@acme.example", fallback=None, staff_user_id=None
    )

    assert sent_to == "owner@acme.example"
    (message,) = inbox.messages()
    assert message["Subject"] == "Test e-mail from the invoicing portal of Acme Studio"
    assert message["From"] == "Acme Studio <billing@acme.example>"
    assert list_outbox(db, limit=10) == []


def test_a_test_email_to_a_closed_port_fails_quickly_with_a_plain_reason(db, port):
    organization = make_organization(db)
    started = time.monotonic()

    with pytest.raises(SmtpTestFailed) as failed:
        send_test_email(
            db, organization, settings_for(port), "owner@acme.example", fallback=None, staff_user_id=None
        )

    assert time.monotonic() - started < 5
    assert failed.value.reason == (
        f"Nothing answered at 127.0.0.1:{port}: the connection was refused. Check the host and the port."
    )


class Server:
    """An aiosmtpd server that records every AUTH and message, on its own loopback address."""

    def __init__(self, host: str, password: bytes) -> None:
        self.inbox, self.port = Inbox(), free_port()
        self.logins: list[tuple[bytes, bytes]] = []

        def authenticator(server, session, envelope, mechanism, auth_data):
            assert isinstance(auth_data, LoginPassword)
            self.logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == password, handled=False)

        self.controller = Controller(
            self.inbox,
            hostname=host,
            port=self.port,
            server_hostname="localhost",
            authenticator=authenticator,
            auth_require_tls=False,
        )


@pytest.fixture
def two_servers() -> Iterator[tuple[Server, Server]]:
    """The business's own server, and another one (say, an attacker's) on another loopback address."""
    own, other = Server("127.0.0.1", b"s3cret-pass"), Server("127.0.0.2", b"typed-pass")
    own.controller.start()
    other.controller.start()
    yield own, other
    own.controller.stop()
    other.controller.stop()


def test_the_stored_password_never_goes_to_a_server_it_was_not_saved_for(db, two_servers):
    own, other = two_servers
    organization = make_organization(db)
    saved = replace(settings_for(own.port), user="mailer", password="s3cret-pass")
    save_smtp_settings(db, organization, saved, staff_user_id=None)
    send_test_email(
        db, organization, replace(saved, password=""), "owner@acme.example", fallback=None, staff_user_id=None
    )
    assert own.logins == [(b"mailer", b"s3cret-pass")]  # the stored password works where it was saved

    elsewhere = replace(saved, host="127.0.0.2", port=str(other.port), password="")
    with pytest.raises(InvalidDetails) as refused:
        send_test_email(db, organization, elsewhere, "owner@acme.example", fallback=None, staff_user_id=None)

    assert refused.value.errors == {"password": RETYPE_FOR_NEW_SERVER}
    assert other.logins == []
    assert other.inbox.envelopes == []

    # the password typed for that server is the one it gets
    send_test_email(
        db,
        organization,
        replace(elsewhere, password="typed-pass"),
        "owner@acme.example",
        fallback=None,
        staff_user_id=None,
    )
    assert other.logins == [(b"mailer", b"typed-pass")]
    assert len(other.inbox.envelopes) == 1
    assert len(own.inbox.envelopes) == 1
