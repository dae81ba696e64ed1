"""From an empty data folder in Chromium: set up the business and arrive in the back office as its owner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.portal_process import RunningPortal, running_portal

pytestmark = pytest.mark.e2e

PASSWORD = "Lantern-Orchard-Quartz-77"


@pytest.fixture(scope="module")
def empty_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("empty-portal-data"), demo=False) as portal:
        yield portal


def fill(page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)


def fill_business_details(page) -> None:
    """Everything on the setup page but the password: Harbour Bakery in Galway, in euros."""
    fill(page, "Business name", "Harbour Bakery")
    fill(page, "Street and number", "12 Quay Street")
    fill(page, "City", "Galway")
    fill(page, "Postal code", "H91 X2Y3")
    country = page.get_by_label("Country", exact=True)
    country.click()
    country.fill("Ireland")
    page.get_by_role("option", name="Ireland").click()
    fill(page, "Business e-mail", "hello@harbour-bakery.example")
    currency = page.get_by_label("Currency (ISO code, like EUR)", exact=True)
    currency.fill("EUR")
    page.wait_for_selector("text=Euro")
    fill(page, "Your name", "Maeve Byrne")
    fill(page, "Your e-mail", "maeve@harbour-bakery.example")


def test_a_business_sets_up_an_empty_portal_and_its_owner_signs_in(empty_portal, browser):
    assert "First run: open" in empty_portal.output.read_text()
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{empty_portal.url}/")
    page.wait_for_url("**/setup")
    page.wait_for_selector("text=Set up your portal")

    fill_business_details(page)
    fill(page, "New password", "short")
    page.get_by_role("button", name="Set up the portal").click()
    page.wait_for_selector("text=Password: Use at least 10 characters.")  # refused, nothing created

    fill(page, "New password", PASSWORD)
    fill(page, "Re-enter new password", PASSWORD)
    page.get_by_role("button", name="Set up the portal").click()
    page.wait_for_url("**/admin/login?**")
    page.wait_for_selector("text=Your business is set up")
    assert page.input_value("input[name=email]") == "maeve@harbour-bakery.example"
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    page.wait_for_url(f"{empty_portal.url}/admin")
    page.wait_for_selector("text=Welcome, Maeve Byrne.")
    assert page.get_by_text("Harbour Bakery").first.is_visible()
    assert page.get_by_text("Settings").first.is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "staff_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Lax", "/")

    page.goto(f"{empty_portal.url}/setup")  # gone for good
    page.wait_for_url("**/admin")
    page.goto(f"{empty_portal.url}/")  # the staff session is no customer session
    page.wait_for_url("**/login?next=%2F")
    page.close()
