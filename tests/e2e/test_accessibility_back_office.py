"""axe-core finds nothing on any back-office page or dialog, at desktop and phone widths."""

from __future__ import annotations

import re

import pytest

from tests.e2e.accessibility import (
    WIDTHS,
    DialogCase,
    click_button,
    first_link,
    report,
    scan_dialogs,
    scan_pages,
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
]
DIALOGS = [
    DialogCase("Record payment", "/admin/payments", click_button("Record payment")),
    DialogCase("Refund credit", "/admin/payments", click_button("Refund credit")),
    DialogCase("New credit note", "/admin/credit-notes", click_button("New credit note")),
    DialogCase("Add staff member", "/admin/settings/staff", click_button("Add staff member")),
    DialogCase("Add tax rate", "/admin/settings/documents", click_button("Add tax rate")),
]


def send_or_void(page) -> None:
    """The confirmation the invoice offers: Send for a draft, Void once it is sent."""
    page.get_by_role("button", name=re.compile(r"^(Send|Void)$")).first.click()


@pytest.mark.parametrize("width", WIDTHS)
def test_back_office_pages_and_dialogs_have_no_axe_violations(demo_portal, browser, width):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    found = scan_pages(page, demo_portal.url, SIGNED_OUT, width)

    sign_in_owner(page, demo_portal.url)
    client = first_link(page, demo_portal.url, "/admin/clients", "/admin/clients/")
    invoice = first_link(page, demo_portal.url, "/admin/invoices", "/admin/invoices/")
    found += scan_pages(page, demo_portal.url, [*PAGES, client, invoice, f"{invoice}/edit"], width)

    dialogs = [
        *DIALOGS,
        DialogCase("Edit client", client, click_button("Edit")),
        DialogCase("Add contact", client, click_button("Add contact")),
        DialogCase("Send or Void", invoice, send_or_void),
    ]
    found += scan_dialogs(page, demo_portal.url, dialogs, width)
    context.close()
    assert not found, report(found)
