"""In Chromium, with e-mail through a real SMTP server (aiosmtpd on loopback): the business writes and
sends a quote, the customer opens it from the e-mail, accepts it with their typed name, and the invoice
it became is in their invoices.

The steps are small functions so that other journeys (a recurring invoice's, auto-pay's) can start from
an accepted quote: ``write_and_send_quote``, ``quote_link_in``, ``open_link_and_sign_in``,
``accept_quote_as_customer``, ``invoice_in_customer_list``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from models import Client, PortalUser
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from tests.e2e.accessibility import portal_database, settle, sign_in_owner
from tests.e2e.test_account_journeys import body_of, mail, wait_for_mail  # noqa: F401 - mail is a fixture
from tests.portal_process import RunningPortal

pytestmark = pytest.mark.e2e

QUOTE_LINK = re.compile(r"https?://\S+/quotes/[A-Za-z0-9_\-]+")


def client_public_id(portal: RunningPortal, email: str = CUSTOMER_EMAIL) -> str:
    """The public id of the client whose contact signs in with ``email`` (for the editor's ?client=)."""
    with portal_database(portal.data_dir) as db, db.reading() as session:
        return session.scalars(
            select(Client.public_id)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == email)
        ).one()


def write_and_send_quote(
    page: Any, url: str, client: str, *, description: str, quantity: str, rate: str, deposit: str = ""
) -> str:
    """As signed-in staff: New quote for ``client`` (its public id) with one line, save, send; its number."""
    page.goto(f"{url}/admin/quotes/new?client={client}")
    page.wait_for_selector("text=Save as draft")
    page.get_by_label("Description").first.fill(description)
    page.get_by_label("Quantity").first.fill(quantity)
    page.get_by_label("Rate").first.fill(rate)
    if deposit:
        page.get_by_label("Deposit on acceptance (%)").fill(deposit)
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url("**/admin/quotes/*?done=saved")
    number = re.search(r"QT-\d+", page.get_by_text(re.compile(r"QT-\d+")).first.inner_text())
    assert number is not None
    page.get_by_role("button", name="Send", exact=True).click()
    page.get_by_role("button", name="Send quote").click()
    page.wait_for_selector("text=The quote was sent")
    return number.group(0)


def quote_link_in(message: Any) -> str:
    """The link to the quote in its e-mail."""
    found = QUOTE_LINK.search(body_of(message))
    assert found, body_of(message)
    return found.group(0)


def open_link_and_sign_in(
    page: Any, link: str, email: str = CUSTOMER_EMAIL, password: str = CUSTOMER_PASSWORD
) -> None:
    """Open a portal link signed out: the sign-in page comes first, then the link's page."""
    page.goto(link)
    page.wait_for_url("**/login?next=*")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(link)
    settle(page)


def accept_quote_as_customer(page: Any, name: str) -> str:
    """On a quote's page: type the name, Accept quote; the number of the invoice it became."""
    page.get_by_label("Your full name, as your signature").fill(name)
    page.get_by_role("button", name="Accept quote").click()
    page.wait_for_selector(f"text=Signed: {name}")
    invoice = page.get_by_role("link", name=re.compile(r"^(INV|RET)-\d+$")).first
    invoice.wait_for()
    return invoice.inner_text().strip()


def invoice_in_customer_list(page: Any, url: str, number: str) -> str:
    """Open Invoices and the row of ``number``; its text (status, amounts)."""
    page.goto(f"{url}/invoices")
    settle(page)
    row = page.locator("tr", has_text=number)
    row.wait_for()
    return str(row.inner_text())


def test_a_quote_sent_by_email_is_accepted_and_becomes_an_invoice(mail, browser):  # noqa: F811
    portal, inbox = mail
    owner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_owner(owner, portal.url)
    number = write_and_send_quote(
        owner, portal.url, client_public_id(portal), description="Menu redesign", quantity="2", rate="275"
    )

    message = wait_for_mail(inbox, CUSTOMER_EMAIL, number)
    assert "valid until" in message["Subject"].lower()
    link = quote_link_in(message)
    customer = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    open_link_and_sign_in(customer, link)
    customer.wait_for_selector(f"text=Quote {number}")
    customer.wait_for_selector("text=Menu redesign")

    invoice = accept_quote_as_customer(customer, "Dana Demo")
    assert invoice.startswith("INV-")
    customer.wait_for_selector(f"text={invoice} is now in your invoices")
    assert "$550.00" in invoice_in_customer_list(customer, portal.url, invoice)

    # The business's open quote page shows the signature without a reload.
    owner.wait_for_selector("text=Signed: Dana Demo")
    assert owner.get_by_role("link", name=invoice).is_visible()
    owner.close()
    customer.close()
