"""axe-core finds nothing on any back-office page or dialog, at desktop and phone widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyotp
import pytest
from sqlalchemy import select

from models import Client, Invoice, PortalUser, RefundSource, StaffUser
from services.credits import request_refund
from services.demo import CUSTOMER_EMAIL, OWNER_EMAIL
from services.invoices import PAYABLE_STATUSES
from services.money import Money
from services.pay_links import issue_pay_link
from services.recurring_invoices import ProfileInput, save_profile
from services.staff_accounts import NewStaff, add_staff
from services.staff_auth import StaffPrincipal
from services.totals import LineInput
from tests.e2e.accessibility import (
    WIDTHS,
    DialogCase,
    axe_violations,
    click_button,
    first_link,
    portal_database,
    report,
    scan_dialogs,
    scan_pages,
    settle,
    sign_in_owner,
)

pytestmark = pytest.mark.e2e

SIGNED_OUT = ["/admin/login", "/admin/login?error=invalid"]
PAGES = [
    "/admin",
    "/admin/clients",
    "/admin/clients/new",
    "/admin/invoices",
    "/admin/invoices/new",
    "/admin/invoices/new?kind=retainer",
    "/admin/recurring",
    "/admin/recurring/new",
    "/admin/credit-notes",
    "/admin/payments",
    "/admin/refunds",
    "/admin/conversations",
    "/admin/account",
    "/admin/settings",
    "/admin/settings/staff",
    "/admin/settings/payments",
    "/admin/settings/api-keys",
    "/admin/settings/documents",
    "/admin/settings/backups",
    "/admin/settings/email",
    "/admin/settings/reminders",
]
DIALOGS = [
    DialogCase("Record payment", "/admin/payments", click_button("Record payment")),
    DialogCase("Refund credit", "/admin/payments", click_button("Refund credit")),
    DialogCase("New credit note", "/admin/credit-notes", click_button("New credit note")),
    DialogCase("Add staff member", "/admin/settings/staff", click_button("Add staff member")),
    DialogCase("Add tax rate", "/admin/settings/documents", click_button("Add tax rate")),
    DialogCase("Revoke API key", "/admin/settings/api-keys", click_button("Revoke")),
    DialogCase("Reset two-factor", "/admin/settings/staff", click_button("Reset two-factor")),
    DialogCase("Decline refund", "/admin/refunds", click_button("Decline")),
]
STAFF_PASSWORD = "Quiet-Harbour-Lantern-42"


@pytest.fixture(scope="module")
def refund_request(demo_portal) -> None:
    """The demo customer asks for 10.00 of their credit back: Refund Requests has one to decline."""
    with portal_database(demo_portal.data_dir) as db:
        with db.reading() as session:
            customer = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
            client_id, user_id = customer.client_id, customer.id
        request_refund(
            db,
            client_id=client_id,
            portal_user_id=user_id,
            source=RefundSource.CREDIT,
            amount=Money(1000, "USD"),
        )


@pytest.fixture(scope="module")
def linked_invoice(demo_portal) -> str:
    """An open invoice whose e-mail carried a pay link: its page offers Revoke pay links."""
    with portal_database(demo_portal.data_dir) as db, db.transaction() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.status.in_(PAYABLE_STATUSES), Invoice.balance_due_minor > 0)
        ).first()
        assert invoice is not None
        issue_pay_link(session, invoice, now=datetime.now(UTC))
        return f"/admin/invoices/{invoice.public_id}"


@pytest.fixture(scope="module")
def recurring_profile(demo_portal) -> str:
    """A monthly profile for the demo customer: Recurring invoices lists it and its page opens it."""
    with portal_database(demo_portal.data_dir) as db:
        with db.reading() as session:
            owner = session.scalars(select(StaffUser).where(StaffUser.email == OWNER_EMAIL)).one()
            client = session.scalars(
                select(Client)
                .join(PortalUser, PortalUser.client_id == Client.id)
                .where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            staff = StaffPrincipal(owner.id, owner.organization_id, owner.name, owner.email, owner.role, 0)
            client_public_id = client.public_id
        typed = ProfileInput(
            client_public_id=client_public_id,
            unit="month",
            every="1",
            start_date=datetime.now(UTC).date() + timedelta(days=2),
            ending="after_count",
            end_date=None,
            count="12",
            due_days="14",
            send=True,
            lines=[LineInput("Website care plan", Decimal(1), 24900)],
        )
        return f"/admin/recurring/{save_profile(db, staff, typed).public_id}"


def add_staff_member(demo_portal, width: str) -> str:
    """A staff member of the demo business, one for each width (their two-factor sign-in is set up once)."""
    email = f"sam.{width}@business.example"
    with portal_database(demo_portal.data_dir) as db:
        with db.reading() as session:
            owner = session.scalars(select(StaffUser).where(StaffUser.email == OWNER_EMAIL)).one()
            organization_id, owner_id = owner.organization_id, owner.id
        new = NewStaff(f"Sam {width.title()}", email, "staff", STAFF_PASSWORD, STAFF_PASSWORD)
        add_staff(db, organization_id, new, added_by=owner_id, rounds=4)
    return email


def scan_new_api_key(page, url: str, where: str) -> list[str]:
    """Create a key as the owner would: the dialog that shows it once, with its copy button."""
    page.goto(f"{url}/admin/settings/api-keys")
    settle(page)
    page.get_by_label("Key name").fill(f"Books sync ({where})")
    page.get_by_role("button", name="Create key").click()
    dialog = page.get_by_role("dialog", name=f"API key “Books sync ({where})” created")
    dialog.wait_for()
    page.wait_for_timeout(300)  # Quasar's opening transition
    found = axe_violations(page, f"{where} dialog 'API key created'", within="[role=dialog]")
    dialog.get_by_role("button", name="Copy", exact=True).click()  # named by its word, not its icon
    page.get_by_text("The key is copied.").wait_for()
    dialog.get_by_role("button", name="Done").click()
    dialog.wait_for(state="detached")
    return found


def scan_two_factor_set_up(browser, url: str, email: str, width: str) -> list[str]:
    """A staff member turns two-factor sign-in on in My account: the QR code and its code field, the
    recovery codes shown once, and the dialogs that ask for proof before new codes or turning it off."""
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    sign_in_owner(page, url, email=email, password=STAFF_PASSWORD)
    page.goto(f"{url}/admin/account")
    settle(page)
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    key = page.locator(".font-mono.select-all").first  # the key, in groups of four
    key.wait_for()
    found = axe_violations(page, f"{width} two-factor set-up")
    page.get_by_label("6-digit code").fill(pyotp.TOTP("".join(key.inner_text().split())).now())
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("Two-factor sign-in is on.").wait_for()
    found += axe_violations(page, f"{width} two-factor recovery codes")
    page.get_by_role("button", name="Done").click()
    page.get_by_text("recovery codes left").wait_for()
    proofs = [
        DialogCase("New recovery codes", "/admin/account", click_button("New recovery codes")),
        DialogCase("Turn off two-factor", "/admin/account", click_button("Turn off")),
    ]
    found += scan_dialogs(page, url, proofs, width)
    context.close()
    return found


def send_or_void(page) -> None:
    """The confirmation the invoice offers: Send for a draft, Void once it is sent."""
    page.get_by_role("button", name=re.compile(r"^(Send|Void)$")).first.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_back_office_pages_and_dialogs_have_no_axe_violations(
    demo_portal, browser, width, refund_request, linked_invoice, recurring_profile
):
    staff = add_staff_member(demo_portal, width)
    found = scan_two_factor_set_up(browser, demo_portal.url, staff, width)
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    found += scan_pages(page, demo_portal.url, SIGNED_OUT, width)

    sign_in_owner(page, demo_portal.url)
    found += scan_new_api_key(page, demo_portal.url, width)
    client = first_link(page, demo_portal.url, "/admin/clients", "/admin/clients/")
    invoice = first_link(page, demo_portal.url, "/admin/invoices", "/admin/invoices/")
    found += scan_pages(
        page,
        demo_portal.url,
        [*PAGES, client, invoice, f"{invoice}/edit", linked_invoice, recurring_profile],
        width,
    )

    dialogs = [
        *DIALOGS,
        DialogCase("Edit client", client, click_button("Edit")),
        DialogCase("Add contact", client, click_button("Add contact")),
        DialogCase("Disable contact", client, click_button("Disable")),
        DialogCase("Send or Void", invoice, send_or_void),
        DialogCase("Revoke pay links", linked_invoice, click_button("Revoke pay links")),
        DialogCase("End recurring profile", "/admin/recurring", click_button("End: ", exact=False)),
    ]
    found += scan_dialogs(page, demo_portal.url, dialogs, width)
    context.close()
    assert not found, report(found)
