"""The whole story from an empty data folder, in Chromium, with e-mail through a real SMTP server
(aiosmtpd on loopback): the business sets up the portal, adds a client and invites its contact; the
contact accepts; the business writes and sends an invoice; the customer pays it with the sandbox card;
the business sees it paid."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.test_account_journeys import body_of, link_in, wait_for_mail
from tests.e2e.test_first_run_journey import PASSWORD, fill, fill_business_details
from tests.integration.test_smtp_delivery import Inbox
from tests.portal_process import RunningPortal, free_port, running_portal

pytestmark = pytest.mark.e2e

CONTACT_EMAIL = "ciara@quaycafe.example"
CONTACT_PASSWORD = "Salt-Harbour-Kettle-58"


@pytest.fixture(scope="module")
def new_business(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningPortal, Inbox]]:
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port, server_hostname="localhost")
    controller.start()
    port = free_port()
    settings = {
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(smtp_port),
        "PORTAL_SMTP_SECURITY": "none",
        "PORTAL_SMTP_FROM": "billing@harbour-bakery.example",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    try:
        with running_portal(
            tmp_path_factory.mktemp("new-business-data"), port=port, settings=settings, demo=False
        ) as portal:
            yield portal, inbox
    finally:
        controller.stop()


def set_up_and_sign_in(page, url: str) -> None:
    page.goto(f"{url}/")
    page.wait_for_url("**/setup")
    fill_business_details(page)
    fill(page, "New password", PASSWORD)
    fill(page, "Re-enter new password", PASSWORD)
    page.get_by_role("button", name="Set up the portal").click()
    page.wait_for_url("**/admin/login?**")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Welcome, Maeve Byrne.")


def add_client_and_invite(page, url: str) -> str:
    """Create the client, add its contact with an invitation; returns the client page's address."""
    page.goto(f"{url}/admin/clients")
    page.get_by_text("New client", exact=True).first.click()
    page.wait_for_url("**/admin/clients/new")
    fill(page, "Display name *", "Quay Street Café")
    fill(page, "E-mail", "accounts@quaycafe.example")
    page.get_by_role("button", name="Create client").click()
    page.wait_for_selector("text=Contact persons")
    client_page = page.url
    page.get_by_role("button", name="Add contact").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Ciara Quay")
    dialog.get_by_label("E-mail", exact=True).fill(CONTACT_EMAIL)
    dialog.get_by_role("button", name="Add and invite").click()
    page.wait_for_selector("text=Invited")
    return client_page


def accept_invitation(page, link: str, url: str) -> None:
    page.goto(link)
    page.wait_for_selector("text=Welcome! Choose a password")
    page.fill("[aria-label='New password']", CONTACT_PASSWORD)
    page.fill("[aria-label='Re-enter new password']", CONTACT_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_selector("text=Your password is set.")
    page.goto(f"{url}/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("input[name=email]", CONTACT_EMAIL)
    page.fill("input[name=password]", CONTACT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Outstanding Invoices")


def test_from_an_empty_folder_to_a_paid_invoice(new_business, browser):
    portal, inbox = new_business
    owner = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    set_up_and_sign_in(owner, portal.url)
    client_page = add_client_and_invite(owner, portal.url)

    invitation = wait_for_mail(inbox, CONTACT_EMAIL, "invit")
    assert "Harbour Bakery" in body_of(invitation)
    customer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    accept_invitation(customer, link_in(invitation), portal.url)
    assert customer.get_by_text("€0.00").first.is_visible()  # nothing owed yet

    number = write_and_send_invoice(owner, client_page)
    sent = wait_for_mail(inbox, CONTACT_EMAIL, number)
    assert f"{portal.url}/invoices/" in body_of(sent)

    # The customer's open Home shows the new invoice without a reload.
    customer.wait_for_selector("text=€123.00")
    customer.get_by_role("button", name="Pay Now").click()
    customer.wait_for_selector("text=What you are paying")
    customer.fill("[aria-label='Card number']", "4242 4242 4242 4242")
    customer.fill("[aria-label='Expiry (MM/YY)']", "12/30")
    customer.fill("[aria-label='CVV']", "123")
    customer.fill("[aria-label='Name on card']", "Ciara Quay")
    customer.get_by_role("button", name="Pay €123.00").click()
    customer.wait_for_selector("text=Thank you! Payment received: €123.00.")

    owner.goto(f"{portal.url}/admin/invoices")
    owner.wait_for_selector(f"text={number}")
    row = owner.locator("tr", has_text=number)
    assert "Paid" in row.inner_text()
    owner.close()
    customer.close()


def write_and_send_invoice(page, client_page: str) -> str:
    """On the client's page: New invoice, one line of €123.00, save, send. Returns the invoice number."""
    page.goto(client_page)
    page.get_by_text("New invoice", exact=True).first.click()
    page.wait_for_url("**/admin/invoices/new?client=*")
    page.wait_for_selector("text=Save as draft")
    page.get_by_label("Description").first.fill("Sourdough for the opening week")
    page.get_by_label("Quantity").first.fill("3")
    page.get_by_label("Rate").first.fill("41")
    page.wait_for_selector("text=€123.00")  # the total, computed while typing
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/admin/invoices/*?done=saved")
    number = page.get_by_text(re.compile(r"INV-\d+")).first.inner_text()
    number = re.search(r"INV-\d+", number).group(0)  # type: ignore[union-attr]
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("button", name="Send invoice").click()
    page.wait_for_selector("text=Sent")
    return number
