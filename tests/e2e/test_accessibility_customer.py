"""axe-core finds nothing on any page or dialog a customer sees, at desktop and phone widths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import PortalUser
from services.demo import CUSTOMER_EMAIL
from services.gateways.base import BillingAddress, MethodInfo, MethodKind
from services.saved_methods import store_method
from tests.e2e.accessibility import (
    WIDTHS,
    DialogCase,
    click_button,
    first_link,
    portal_database,
    report,
    scan_dialogs,
    scan_pages,
    settle,
    sign_in_customer,
)

pytestmark = pytest.mark.e2e

SIGNED_OUT = ["/login", "/login?error=invalid", "/forgot-password", "/set-password?token=no-such-link"]
SIGNED_IN = ["/", "/invoices", "/payments", "/statement", "/password", "/pay"]


def forward_from_the_menu(page) -> None:
    page.get_by_role("button", name="More").click()
    page.get_by_role("menuitem", name="Forward").click()


def open_first_card_edit(page) -> None:
    page.locator("[data-testid=card-details]").get_by_role("button", name="Edit", exact=True).first.click()


@pytest.fixture(scope="module")
def saved_card(demo_portal) -> None:
    """A card the demo customer saved when paying (kept as the sandbox keeps one): Home's Card Details
    then offers Edit and Remove."""
    card = MethodInfo(
        "pm_sandbox_accessibility",
        MethodKind.CARD,
        "Visa",
        "4242",
        exp_month=12,
        exp_year=datetime.now(UTC).year + 3,
        holder_name="Dana Demo",
        billing_address=BillingAddress("18 Harbor Road", "", "Oakland", "CA", "94607", "US"),
    )
    with portal_database(demo_portal.data_dir) as db, db.transaction() as session:
        client_id = session.scalars(
            select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        store_method(session, client_id, "sandbox", card, "cus_sandbox_accessibility", datetime.now(UTC))


HOME_DIALOGS = [
    DialogCase("Send Email", "/", click_button("Send Email")),
    DialogCase("Review", "/", click_button("Review")),
    DialogCase("Edit account details", "/", click_button("Edit account details")),
    DialogCase("Edit addresses", "/", click_button("Edit addresses")),
    DialogCase("Apply to Invoice", "/", click_button("Apply to Invoice")),
    DialogCase("Request Refund", "/", click_button("Request Refund")),
    DialogCase("Edit saved card", "/", open_first_card_edit),
    DialogCase("Remove saved card", "/", click_button("Remove")),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_customer_pages_and_dialogs_have_no_axe_violations(demo_portal, browser, width, saved_card):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    found = scan_pages(page, demo_portal.url, SIGNED_OUT, width)

    sign_in_customer(page, demo_portal.url)
    invoice = first_link(page, demo_portal.url, "/invoices", "/invoices/")
    payment = first_link(page, demo_portal.url, "/payments", "/payments/")
    found += scan_pages(page, demo_portal.url, [*SIGNED_IN, invoice, payment], width)

    dialogs = [*HOME_DIALOGS, DialogCase("Forward", invoice, forward_from_the_menu)]
    found += scan_dialogs(page, demo_portal.url, dialogs, width)
    page.goto(f"{demo_portal.url}/")
    settle(page)
    context.close()
    assert not found, report(found)
