"""In Chromium, with the portal e-mailing through a real SMTP server (aiosmtpd on loopback): Send Email,
Forgot password?, an invitation, and a password change that signs the other browser out."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from models import Client, PasswordToken, PortalUser
from services import secret_key
from services.database import Database
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OTHER_CUSTOMER_EMAIL
from services.invitations import invite_contact
from tests.e2e.test_sign_in_journey import sign_in
from tests.integration.test_smtp_delivery import Inbox
from tests.portal_process import RunningPortal, free_port, running_portal

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Quiet-Harbor-Lantern-42"
LINK = re.compile(r"https?://\S+/set-password\?token=[A-Za-z0-9_\-]+")


@pytest.fixture(scope="module")
def mail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningPortal, Inbox]]:
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port, server_hostname="localhost")
    controller.start()
    port = free_port()
    settings = {
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(smtp_port),
        "PORTAL_SMTP_SECURITY": "none",
        "PORTAL_SMTP_FROM": "portal@northwind.example",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    try:
        with running_portal(
            tmp_path_factory.mktemp("mail-portal-data"), port=port, settings=settings
        ) as portal:
            yield portal, inbox
    finally:
        controller.stop()


def wait_for_mail(inbox: Inbox, to: str, subject_part: str, seconds: float = 30) -> EmailMessage:
    """The portal's sender drains its outbox every few seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in inbox.messages():
            if to in message["To"] and subject_part.lower() in message["Subject"].lower():
                return message
        time.sleep(0.25)
    raise AssertionError(
        f"no e-mail to {to} about {subject_part!r}: {[m['Subject'] for m in inbox.messages()]}"
    )


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage) -> str:
    body = body_of(message)
    found = LINK.search(body)
    assert found, body
    return found.group(0)


def portal_db(portal: RunningPortal) -> Database:
    return Database.from_url(f"sqlite:///{portal.data_dir / 'portal.db'}")


def test_send_email_reaches_the_business_with_the_customer_as_reply_to(mail, browser):
    portal, inbox = mail
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, portal.url)
    page.get_by_role("button", name="Send Email").click()
    page.fill("[aria-label='Subject']", "Question about INV-00012")
    page.fill("[aria-label='Message']", "Could we pay it in two parts?")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_selector("text=Your message is sent.")
    message = wait_for_mail(inbox, "hello@northwind.example", "Question about INV-00012")
    assert message["Reply-To"] == CUSTOMER_EMAIL
    assert "Could we pay it in two parts?" in body_of(message)
    page.close()


def test_change_password_signs_out_the_other_browser_and_only_the_new_one_works(mail, browser):
    portal, inbox = mail
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(phone, portal.url, email=OTHER_CUSTOMER_EMAIL)
    phone.wait_for_selector("text=Outstanding Invoices")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(desk, portal.url, email=OTHER_CUSTOMER_EMAIL)
    desk.wait_for_selector("text=Outstanding Invoices")

    desk.goto(f"{portal.url}/password")
    desk.fill("[aria-label='Old password']", CUSTOMER_PASSWORD)
    desk.fill("[aria-label='New password']", NEW_PASSWORD)
    desk.fill("[aria-label='Re-enter new password']", NEW_PASSWORD)
    desk.get_by_role("button", name="Save").click()
    desk.wait_for_selector("text=Your password is changed.")
    notice = wait_for_mail(inbox, OTHER_CUSTOMER_EMAIL, "password")
    assert "changed" in body_of(notice)

    # The other session ended: its open page leaves for the sign-in page by itself (a navigation of our
    # own meanwhile would race it), and after that any request of that browser asks for sign-in.
    phone.wait_for_url("**/login?**", timeout=15_000)
    phone.goto(f"{portal.url}/invoices")
    phone.wait_for_url("**/login?**")

    desk.goto(f"{portal.url}/")
    desk.wait_for_selector("text=Outstanding Invoices")  # this one is still signed in
    desk.get_by_role("button", name="Logout").click()
    desk.wait_for_url("**/login?**")
    sign_in(desk, portal.url, email=OTHER_CUSTOMER_EMAIL)  # the old password
    desk.wait_for_selector("text=The e-mail address or password is not correct.")
    sign_in(desk, portal.url, password=NEW_PASSWORD, email=OTHER_CUSTOMER_EMAIL)
    desk.wait_for_selector("text=Outstanding Invoices")
    desk.context.close()
    phone.context.close()


def test_forgot_password_link_sets_a_new_password_once(mail, browser):
    portal, inbox = mail
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{portal.url}/login")
    page.get_by_text("Forgot password?").click()
    page.fill("[aria-label='Email']", CUSTOMER_EMAIL)
    page.get_by_role("button", name="Send link").click()
    page.wait_for_selector("text=If that address belongs to a portal login")
    link = link_in(wait_for_mail(inbox, CUSTOMER_EMAIL, "password"))

    page.goto(link)
    page.wait_for_selector("text=Choose a new password")
    page.fill("[aria-label='New password']", NEW_PASSWORD)
    page.fill("[aria-label='Re-enter new password']", NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("text=Your password is set.")
    sign_in(page, portal.url, password=NEW_PASSWORD)
    page.wait_for_selector("text=Outstanding Invoices")

    page.goto(link)  # single use
    page.wait_for_selector("text=This link cannot be used")
    page.close()


def test_an_invitation_link_lets_a_new_contact_in_and_an_expired_one_does_not(mail, browser):
    portal, inbox = mail
    db = portal_db(portal)
    try:
        with db.reading() as session:
            client_id = session.scalars(
                select(Client.id).join(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
        secret_key.install(portal.data_dir)  # the portal's: the link waits sealed under it (services.outbox)
        invite_contact(db, client_id, name="Robin Reyes", email="robin@bluebird.example", base_url=portal.url)
        invite_contact(db, client_id, name="Late Larry", email="larry@bluebird.example", base_url=portal.url)
        link = link_in(wait_for_mail(inbox, "robin@bluebird.example", "invit"))
        late = link_in(wait_for_mail(inbox, "larry@bluebird.example", "invit"))
        with db.transaction() as session:  # Larry waited more than 72 hours
            larry = session.scalars(
                select(PortalUser.id).where(PortalUser.email == "larry@bluebird.example")
            ).one()
            session.execute(
                update(PasswordToken)
                .where(PasswordToken.portal_user_id == larry)
                .values(expires_at=datetime.now(UTC) - timedelta(hours=1))
            )
    finally:
        db.engine.dispose()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(link)
    page.wait_for_selector("text=Welcome! Choose a password")
    page.fill("[aria-label='New password']", NEW_PASSWORD)
    page.fill("[aria-label='Re-enter new password']", NEW_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("text=Your password is set.")
    sign_in(page, portal.url, password=NEW_PASSWORD, email="robin@bluebird.example")
    page.wait_for_selector("text=Outstanding Invoices")
    assert page.get_by_text("Robin Reyes").first.is_visible()

    page.goto(late)
    page.wait_for_selector("text=This link cannot be used")
    assert page.get_by_text("expired").count() >= 1
    page.close()
