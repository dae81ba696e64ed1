"""In Chromium, with the portal e-mailing through aiosmtpd on loopback: a customer asks for a sign-in
link on the sign-in page, opens it from the e-mail and is signed in with one press; the link then
works no more."""

from __future__ import annotations

import re

import pytest

from services.demo import CUSTOMER_EMAIL
from tests.e2e.test_account_journeys import body_of, mail, wait_for_mail  # noqa: F401 - mail is a fixture

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/sign-in-link\?token=[A-Za-z0-9_\-]+")


def test_a_customer_signs_in_from_the_emailed_link_once(mail, browser):  # noqa: F811 - the fixture
    portal, inbox = mail
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{portal.url}/login")
    page.get_by_role("link", name="E-mail me a sign-in link").click()
    page.wait_for_url("**/sign-in-by-email")
    page.fill("[aria-label='Email']", CUSTOMER_EMAIL)
    page.get_by_role("button", name="Send link").click()
    page.wait_for_selector("text=a sign-in link is on its way")

    message = wait_for_mail(inbox, CUSTOMER_EMAIL, "sign-in link")
    found = LINK.search(body_of(message))
    assert found, body_of(message)
    link = found.group(0)

    page.goto(link)
    page.wait_for_selector(f"text=Sign in to the portal as {CUSTOMER_EMAIL}.")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{portal.url}/")
    page.wait_for_selector("text=Outstanding Invoices")

    other = browser.new_page()  # the link was spent: in another browser it signs nobody in
    other.goto(link)
    other.wait_for_selector("text=This sign-in link has been used already.")
    assert other.get_by_role("button", name="Sign in").count() == 0
    other.close()
    page.close()
