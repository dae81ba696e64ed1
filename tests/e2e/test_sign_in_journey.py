"""The demo customer signs in to the real portal in Chromium, sees the right figures and logs out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Client, PortalUser
from services.balances import ClientBalances, client_balances
from services.database import Database
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from services.money import format_money

pytestmark = pytest.mark.e2e


def expected_balances(data_dir) -> ClientBalances:
    """What the accounting core says, read from the running portal's own database."""
    db = Database.from_url(f"sqlite:///{data_dir / 'portal.db'}")
    try:
        with db.reading() as session:
            client = session.scalars(
                select(Client)
                .join(PortalUser, PortalUser.client_id == Client.id)
                .where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            return client_balances(session, client.id, client.currency)
    finally:
        db.engine.dispose()


def sign_in(page, url: str, password: str = CUSTOMER_PASSWORD, *, email: str = CUSTOMER_EMAIL) -> None:
    page.goto(f"{url}/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def card_amount(page, test_id: str) -> str:
    return page.locator(f"[data-testid={test_id}] .figure-amount").inner_text().strip()


def test_demo_customer_signs_in_sees_the_four_cards_and_logs_out(demo_portal, browser):
    assert "demo@client.example / Demo-Portal-2026" in demo_portal.output.read_text()
    balances = expected_balances(demo_portal.data_dir)
    assert balances.last_payment is not None
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")
    assert card_amount(page, "outstanding-invoices") == format_money(balances.outstanding)
    assert card_amount(page, "available-credits") == format_money(balances.available_credits)
    assert card_amount(page, "available-retainer") == format_money(balances.available_retainer)
    assert card_amount(page, "last-payment") == format_money(balances.last_payment.amount)
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Logout").click()
    page.wait_for_selector("text=You have signed out.")
    page.goto(f"{demo_portal.url}/")
    page.wait_for_url("**/login?next=%2F")
    page.close()


def test_a_wrong_password_is_refused_in_the_browser(demo_portal, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, demo_portal.url, password="Not-my-password-1")
    page.wait_for_selector("text=The e-mail address or password is not correct.")
    assert "Outstanding Invoices" not in page.content()
    page.close()


def test_on_a_phone_the_sidebar_is_a_drawer(demo_portal, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")
    logout = page.get_by_role("button", name="Logout")
    assert not logout.is_visible()
    page.get_by_role("button", name="Open navigation").click()
    logout.wait_for(state="visible")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows sideways
    page.close()
