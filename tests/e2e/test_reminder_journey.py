"""A payment reminder, end to end: the owner turns reminders on, the running portal's scheduler sends the
day's reminder through a real SMTP server (aiosmtpd on loopback) with the invoice's PDF and a pay link
that opens the invoice in Chromium with no account, and a second run of the job sends nothing more."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from models import Client, Invoice, Organization, PortalUser, StaffUser
from services import secret_key
from services.dates import zone
from services.demo import CUSTOMER_EMAIL, OWNER_EMAIL
from services.invoices import PAYABLE_STATUSES
from services.reminders import REMINDERS_JOB, RuleInput, save_reminder_setup
from services.scheduler import job_state
from services.staff_auth import StaffPrincipal
from tests.e2e.test_account_journeys import body_of, mail, portal_db, wait_for_mail  # noqa: F401 - mail is a fixture

pytestmark = pytest.mark.e2e

PAY_LINK = re.compile(r"https?://\S+/pay-link\?token=[A-Za-z0-9_\-]+")


def test_a_reminder_arrives_once_with_its_pdf_and_a_pay_link(mail, browser):  # noqa: F811
    portal, inbox = mail
    db = portal_db(portal)
    try:
        secret_key.install(portal.data_dir)  # the portal's
        with db.reading() as session:
            client_id = session.scalars(
                select(Client.id).join(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            invoice = session.scalars(
                select(Invoice)
                .where(Invoice.client_id == client_id, Invoice.status.in_(PAYABLE_STATUSES))
                .order_by(Invoice.due_date)
            ).first()
            assert invoice is not None
            number, due_date = invoice.number, invoice.due_date
            organization = session.get_one(Organization, invoice.organization_id)
            today = datetime.now(UTC).astimezone(zone(organization.time_zone)).date()
            owner = session.scalars(select(StaffUser).where(StaffUser.email == OWNER_EMAIL)).one()
            staff = StaffPrincipal(owner.id, owner.organization_id, owner.name, owner.email, "owner", 0)
        days = (today - due_date).days  # a reminder whose day is today, whatever the demo's dates
        rule = RuleInput("on") if days == 0 else RuleInput("after" if days > 0 else "before", str(abs(days)))
        save_reminder_setup(db, staff, enabled=True, rules=[rule])  # the job is due at once

        message = wait_for_mail(inbox, CUSTOMER_EMAIL, number)

        body = body_of(message)
        found = PAY_LINK.search(body)
        assert found, body
        assert f"{portal.url}/invoices/{invoice.public_id}" in body
        (attachment,) = [
            part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
        ]
        assert attachment.get_filename() == f"{number}.pdf"
        assert number in PdfReader(BytesIO(attachment.get_content())).pages[0].extract_text()

        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # no cookie at all
        page.goto(found.group(0))
        page.wait_for_selector(f"text=Invoice {number}")
        page.context.close()

        # Run the job again (as turning reminders on does): the day's reminder is not sent twice.
        first = job_state(db, REMINDERS_JOB, str(staff.organization_id))
        assert first is not None
        assert first.last_succeeded_at is not None
        save_reminder_setup(db, staff, enabled=False, rules=[rule])
        save_reminder_setup(db, staff, enabled=True, rules=[rule])
        deadline = time.monotonic() + 30
        while True:
            again = job_state(db, REMINDERS_JOB, str(staff.organization_id))
            assert again is not None
            if again.last_succeeded_at is not None and again.last_succeeded_at > first.last_succeeded_at:
                break
            assert time.monotonic() < deadline, "the reminders job did not run again"
            time.sleep(0.2)
        time.sleep(6)  # longer than the sender's round: a second message would be here by now
        reminders = [m for m in inbox.messages() if CUSTOMER_EMAIL in m["To"] and number in m["Subject"]]
        assert len(reminders) == 1
    finally:
        db.engine.dispose()
