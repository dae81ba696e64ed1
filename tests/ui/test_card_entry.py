"""The card form of the Pay page and of a pay link's page: one form, grouped as typed, its brand said in
words, the expiry read however it is typed, the billing address filled in from the account."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User
from sqlalchemy import func, select

from models import Client, Payment, PortalUser, SavedPaymentMethod
from services import portal
from services.demo import CUSTOMER_EMAIL
from tests.ui.conftest import post_login
from tests.ui.test_pay_link import link_for_an_open_invoice

UNREADABLE = "Enter the expiry as month and year, for example 12/29."


def element(user: User, marker: str) -> Any:
    (found,) = user.find(marker=marker).elements
    return found


def payments() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(Payment)) or 0


def demo_client_address() -> tuple[str, str, str, str]:
    with portal.current().db.reading() as session:
        client = session.scalars(
            select(Client)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        return client.address_line1, client.city, client.postal_code, client.country


async def test_the_number_is_grouped_by_its_brand_which_is_said_in_words(user: User) -> None:
    await post_login(user)
    await user.open("/pay")
    number = element(user, "card-number")
    assert number.props["mask"] == "#### #### #### #### ###"  # the browser groups in fours as it is typed
    user.find(marker="card-number").type("4242")
    assert element(user, "card-brand").text == "Visa"
    assert number.props["mask"] == "#### #### #### #### ###"
    number.value = ""
    user.find(marker="card-number").type("3782")
    assert element(user, "card-brand").text == "American Express"
    # As an Amex card prints it (3782 822463 10005), with room for the digits of any brand: typed before
    # the mask for their brand arrives, none is cut off.
    assert number.props["mask"] == "#### ###### ##### ####"
    number.value = "5555 5555"
    assert element(user, "card-brand").text == "Mastercard"
    assert number.props["mask"] == "#### #### #### #### ###"
    number.value = "9"
    assert element(user, "card-brand").text == ""  # nothing to tell yet: no guess


async def test_the_expiry_reads_as_typed_and_an_unreadable_one_is_said_at_once(user: User) -> None:
    await post_login(user)
    await user.open("/pay")
    expiry = element(user, "card-expiry")
    user.find(marker="card-expiry").type("1229").trigger("blur")
    assert expiry.value == "12/29"
    expiry.value = "12 / 2031"
    user.find(marker="card-expiry").trigger("blur")
    assert expiry.value == "12/31"
    expiry.value = "12/2"
    user.find(marker="card-expiry").trigger("blur")
    await user.should_see(UNREADABLE)
    assert expiry.props["error"] is True
    expiry.value = "0130"
    user.find(marker="card-expiry").trigger("blur")
    assert expiry.value == "01/30"
    await user.should_not_see(UNREADABLE)


async def test_a_card_with_an_unreadable_expiry_is_not_charged(user: User) -> None:
    await post_login(user)
    before = payments()
    await user.open("/pay")
    user.find(marker="card-number").type("4242 4242 4242 4242")
    user.find(marker="card-expiry").type("13/30")
    user.find(marker="card-cvc").type("123")
    user.find(marker="card-name").type("Dana Demo")
    user.find(marker="pay-submit").click()
    await user.should_see(UNREADABLE)
    assert payments() == before


async def test_the_billing_address_comes_from_the_account_and_goes_with_the_card(user: User) -> None:
    line1, city, postal_code, country = demo_client_address()
    await post_login(user)
    await user.open("/pay")
    assert element(user, "billing-line1").value == line1
    assert element(user, "billing-city").value == city
    assert element(user, "billing-postal-code").value == postal_code
    assert element(user, "billing-country").value == country
    user.find(marker="card-number").type("4242424242424242")
    user.find(marker="card-expiry").type("1230")
    user.find(marker="card-cvc").type("123")
    user.find(marker="card-name").type("Dana Demo")
    user.find("Save this card for future payments").click()
    user.find(marker="pay-submit").click()
    await user.should_see("Thank you! Payment received", retries=40)
    with portal.current().db.reading() as session:
        saved = session.execute(
            select(
                SavedPaymentMethod.address_line1, SavedPaymentMethod.city, SavedPaymentMethod.country
            ).where(SavedPaymentMethod.last4 == "4242")
        ).one()
    assert tuple(saved) == (line1, city, country)


async def test_the_pay_link_page_has_the_same_form_with_the_invoices_billing_address(user: User) -> None:
    line1, city, _, country = demo_client_address()
    token, _, _ = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={token}")
    assert (element(user, "billing-line1").value, element(user, "billing-city").value) == (line1, city)
    assert element(user, "billing-country").value == country
    user.find(marker="card-number").type("37")
    assert element(user, "card-brand").text == "American Express"
    await user.should_not_see("Save this card for future payments")  # no account to keep it in
