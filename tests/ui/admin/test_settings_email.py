"""Settings > E-mail: the owner sets the SMTP server, sends a test e-mail to a real server, and retries the
outbox's failed messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from nicegui.testing import User
from sqlalchemy import select, update

from models import Client, IntegrationSettings, OutboxEmail
from services import portal
from services.demo import OWNER_EMAIL
from services.invitations import invite_contact
from services.outbox import list_outbox, queue_email
from services.smtp_settings import RETYPE_FOR_NEW_SERVER, smtp_config_provider
from tests.integration.test_smtp_delivery import Inbox, free_port
from tests.ui.admin.conftest import set_value, until

PAGE = "/admin/settings/email"
# the page's (a test that imports a page module registers the page too early)
KEEP_STORED_HINT = "A password is stored. Leave empty to keep it."
FROM = "Northwind Design Studio <billing@northwind.example>"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    yield inbox, port
    controller.stop()


def fill(
    page: User,
    *,
    host: str = "127.0.0.1",
    port: str = "2525",
    security: str = "none",
    login: str = "",
    password: str = "",
    from_address: str = FROM,
) -> None:
    set_value(page, "smtp-host", host)
    set_value(page, "smtp-security", security)
    set_value(page, "smtp-port", port)  # after security: choosing one suggests its usual port
    set_value(page, "smtp-user", login)
    set_value(page, "smtp-password", password)
    set_value(page, "smtp-from", from_address)


def stored() -> IntegrationSettings | None:
    with portal.current().db.reading() as session:
        row = session.scalars(select(IntegrationSettings)).one_or_none()
        if row is not None:
            session.expunge(row)
        return row


async def test_saved_settings_are_used_by_the_sender_and_the_password_is_not_shown_back(owner: User) -> None:
    await owner.open(PAGE)
    # loopback with nothing listening: the background sender, now using it, fails at once
    fill(owner, host="127.0.0.1", port="465", security="ssl", login="mailer", password="s3cret-pass")

    owner.find(marker="smtp-save").click()

    await owner.should_see("Saved. E-mail goes out through 127.0.0.1:465 from now on.", retries=40)
    row = stored()
    assert row is not None
    assert (
        row.smtp_host,
        row.smtp_port,
        row.smtp_security,
        row.smtp_user,
        row.smtp_password,
        row.smtp_from,
    ) == (
        "127.0.0.1",
        465,
        "ssl",
        "mailer",
        "s3cret-pass",
        FROM,
    )
    config = smtp_config_provider(portal.current().db, fallback=None)()
    assert config is not None
    assert (config.host, config.port) == ("127.0.0.1", 465)

    await owner.open(PAGE)
    password = owner.find(marker="smtp-password").elements.pop()
    assert password.value == ""  # type: ignore[attr-defined]
    assert password.props["hint"] == KEEP_STORED_HINT


async def test_another_server_needs_the_password_again_for_the_test_and_for_saving(
    owner: User, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    await owner.open(PAGE)
    fill(owner, port="465", security="ssl", login="mailer", password="s3cret-pass")
    owner.find(marker="smtp-save").click()
    await owner.should_see("Saved. E-mail goes out through 127.0.0.1:465 from now on.", retries=40)
    password = owner.find(marker="smtp-password").elements.pop()
    assert password.props["hint"] == KEEP_STORED_HINT

    # the same login at another server: the form says the password is needed again
    set_value(owner, "smtp-security", "none")
    set_value(owner, "smtp-port", str(port))
    assert password.props["hint"] == RETYPE_FOR_NEW_SERVER

    owner.find(marker="smtp-test-send").click()
    await owner.should_see(
        "The test e-mail was not sent. Please correct the fields marked in red.", retries=40
    )
    assert password.props["error-message"] == RETYPE_FOR_NEW_SERVER
    assert inbox.envelopes == []

    owner.find(marker="smtp-save").click()
    await owner.should_see("Nothing was saved. Please correct the fields marked in red.", retries=40)
    row = stored()
    assert row is not None
    assert (row.smtp_port, row.smtp_password) == (465, "s3cret-pass")

    set_value(owner, "smtp-host", "127.0.0.1")
    set_value(owner, "smtp-user", "")  # no login at all: nothing to send the password with
    owner.find(marker="smtp-test-send").click()
    await until(lambda: len(inbox.envelopes) == 1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"port": "70000"}, "Enter a port number from 1 to 65535"),
        ({"port": "abc"}, "Enter a port number from 1 to 65535"),
        ({"from_address": "billing at northwind"}, "Enter the address e-mail comes from"),
        ({"host": "smtp northwind.example"}, "Enter a host name such as smtp.example.com"),
    ],
)
async def test_a_wrong_value_is_explained_and_nothing_is_saved(
    owner: User, values: dict[str, str], message: str
) -> None:
    await owner.open(PAGE)
    fill(owner, **values)

    owner.find(marker="smtp-save").click()

    await owner.should_see("Nothing was saved. Please correct the fields marked in red.", retries=40)
    field = {"port": "smtp-port", "from_address": "smtp-from", "host": "smtp-host"}[next(iter(values))]
    element = owner.find(marker=field).elements.pop()
    assert element.props["error"] is True
    assert message in element.props["error-message"]
    assert stored() is None


async def test_the_test_email_arrives_at_the_server_through_the_settings_as_typed(
    owner: User, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    await owner.open(PAGE)
    fill(owner, port=str(port))

    owner.find(marker="smtp-test-send").click()

    await until(lambda: len(inbox.envelopes) == 1)
    await owner.should_see(f"Test e-mail sent to {OWNER_EMAIL}.", retries=40)
    (message,) = inbox.messages()
    assert message["To"] == OWNER_EMAIL
    assert message["From"] == FROM
    assert "Northwind Design Studio" in message["Subject"]
    assert stored() is None  # a test does not save


async def test_the_test_email_goes_to_the_address_typed(owner: User, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    await owner.open(PAGE)
    fill(owner, port=str(port))
    set_value(owner, "smtp-test-to", "accounts@northwind.example")

    owner.find(marker="smtp-test-send").click()

    await owner.should_see("Test e-mail sent to accounts@northwind.example.", retries=40)
    assert inbox.envelopes[0].rcpt_tos == ["accounts@northwind.example"]


async def test_a_wrong_port_shows_why_the_test_email_was_not_sent(owner: User) -> None:
    await owner.open(PAGE)
    fill(owner, port=str(free_port()))  # nothing listens there

    owner.find(marker="smtp-test-send").click()

    await owner.should_see("The test e-mail was not sent.", retries=60)
    await owner.should_see("the connection was refused. Check the host and the port.")


async def test_a_bad_from_address_stops_the_test_email(owner: User) -> None:
    await owner.open(PAGE)
    fill(owner, from_address="nobody")

    owner.find(marker="smtp-test-send").click()

    await owner.should_see(
        "The test e-mail was not sent. Please correct the fields marked in red.", retries=40
    )


def queue_failed_message(subject: str = "Invoice INV-0042 from Northwind Design Studio") -> str:
    current = portal.current()
    now = current.clock()
    with current.db.transaction() as session:
        email_id = queue_email(
            session,
            to=["late@client.example"],
            subject=subject,
            body_text="Hello",
            now=now - timedelta(hours=2),
        )
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status="failed", attempts=8, last_error="SMTPRecipientsRefused: 550 mailbox unavailable")
        )
        return session.get_one(OutboxEmail, email_id).public_id


async def test_the_outbox_shows_a_failed_message_and_retry_now_queues_it_again(owner: User) -> None:
    public_id = queue_failed_message()
    await owner.open(PAGE)
    await owner.should_see("Invoice INV-0042 from Northwind Design Studio")
    await owner.should_see("Failed")
    await owner.should_see("8 attempts · no more automatic tries")
    await owner.should_see("Last error: SMTPRecipientsRefused: 550 mailbox unavailable")

    owner.find(marker=f"outbox-retry-{public_id}").click()

    await owner.should_see("The message is queued and goes out within a few seconds.", retries=40)
    entry = next(e for e in list_outbox(portal.current().db, limit=50) if e.public_id == public_id)
    assert entry.status == "pending"
    assert owner.find(marker="outbox-state-waiting").elements


async def test_retrying_a_message_sent_meanwhile_does_not_send_it_again(owner: User) -> None:
    public_id = queue_failed_message()
    await owner.open(PAGE)
    with portal.current().db.transaction() as session:  # another sender got it through meanwhile
        session.execute(update(OutboxEmail).where(OutboxEmail.public_id == public_id).values(status="sent"))

    owner.find(marker=f"outbox-retry-{public_id}").click()

    await owner.should_see("is sent and cannot be retried", retries=40)
    entry = next(e for e in list_outbox(portal.current().db, limit=50) if e.public_id == public_id)
    assert entry.status == "sent"


async def test_the_outbox_shows_an_invitation_with_its_link_hidden(owner: User) -> None:
    current = portal.current()
    with current.db.reading() as session:
        client_id = session.scalars(select(Client.id).order_by(Client.id)).first()
    assert client_id is not None
    invite_contact(
        current.db, client_id, name="Robin Park", email="robin@client.example", base_url="http://portal.test"
    )

    await owner.open(PAGE)

    await owner.should_see("invites you to its customer portal")
    [entry] = [e for e in list_outbox(current.db, limit=50) if e.to == ("robin@client.example",)]
    [body] = owner.find(marker=f"outbox-body-{entry.public_id}").elements
    assert "Choose your password here" in body.text  # type: ignore[attr-defined]
    assert "[link hidden]" in body.text  # type: ignore[attr-defined]
    assert "token=" not in body.text  # type: ignore[attr-defined]
