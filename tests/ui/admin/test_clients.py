"""Clients in the back office: search, create and edit with a message per wrong field, the currency
fixed once documents exist, and contact persons invited, re-invited, disabled and enabled."""

from __future__ import annotations

import re
from functools import partial

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select

from models import Client, OutboxEmail, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.errors import InvalidToken
from services.invitations import check_token
from services.outbox import links_for_delivery
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import location, post_login, query

NEW_CONTACT = "maeve@bluebird.example"


def table_rows(user: User) -> list[dict]:
    """The rows of the page's table; none while the page is still reading them."""
    try:
        tables = user.find(ui.table).elements
    except AssertionError:
        return []
    (table,) = tables
    return list(table.rows)


def names(user: User) -> list[str]:
    return [row["name"] for row in table_rows(user)]


def client_row(name: str) -> Client:
    with portal.current().db.reading() as session:
        return session.scalars(select(Client).where(Client.display_name == name)).one()


def client_count() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(Client)) or 0


def links_to(email: str) -> list[str]:
    """The tokens of the links mailed to ``email``, as the sender opens them (they are stored sealed)."""
    with portal.current().db.reading() as session:
        sent = session.execute(
            select(OutboxEmail.body_text, OutboxEmail.created_at)
            .where(OutboxEmail.to_addresses == email)
            .order_by(OutboxEmail.id)
        ).all()
    bodies = [links_for_delivery(body, created_at) for body, created_at in sent]
    return [match.group(1) for body in bodies if (match := re.search(r"/set-password\?token=([\w-]+)", body))]


def contact(email: str) -> PortalUser:
    with portal.current().db.reading() as session:
        return session.scalars(select(PortalUser).where(PortalUser.email == email)).one()


def error_of(user: User, marker: str) -> str:
    (field,) = user.find(marker=marker).elements
    return str(field.props.get("error-message") or "") if field.props.get("error") else ""


async def test_search_finds_clients_by_name_company_or_email(owner: User) -> None:
    await owner.open("/admin/clients")
    await until(lambda: names(owner) == ["Bluebird Cafe", "Kowalski Translations"])
    bluebird = table_rows(owner)[0]
    assert (bluebird["currency"], bluebird["credits"].startswith("$")) == ("USD", True)
    for text, expected in (("kowalski", ["Kowalski Translations"]), ("GmbH", ["Kowalski Translations"]),
                           ("accounts@bluebird", ["Bluebird Cafe"]), ("nobody-here", [])):  # fmt: skip
        set_value(owner, "clients-search", text)
        await until(partial(lambda wanted: names(owner) == wanted, expected))
    set_value(owner, "clients-search", "")
    await until(lambda: len(names(owner)) == 2)


async def test_bad_inputs_each_get_a_message_and_create_nothing(owner: User) -> None:
    before = client_count()
    await owner.open("/admin/clients/new")
    (currency,) = owner.find(kind=ui.input, marker="client-currency").elements
    assert currency.value == "USD"  # the business's default currency
    set_value(owner, "client-currency", "XYZ")
    set_value(owner, "client-email", "not an address")
    owner.find(marker="client-save").click()
    await owner.should_see("Nothing was saved: 3 fields need correcting.", retries=40)
    assert error_of(owner, "client-display-name") == "Enter the client's name."
    assert "ISO 4217" in error_of(owner, "client-currency")
    assert "not a valid e-mail address" in error_of(owner, "client-email")
    assert error_of(owner, "client-phone") == ""
    assert client_count() == before


async def test_a_new_client_appears_in_the_list_with_zero_balances(owner: User) -> None:
    await owner.open("/admin/clients")
    owner.find(marker="clients-new").click()
    await owner.open("/admin/clients/new")  # the button is a link; the simulated browser follows it here
    set_value(owner, "client-display-name", "Harbour Bakery")
    set_value(owner, "client-company-name", "Harbour Bakery Ltd")
    set_value(owner, "client-email", "Accounts@Harbour.example")
    set_value(owner, "client-currency", "eur")
    set_value(owner, "client-billing-line1", "12 Quay Street")
    set_value(owner, "client-billing-city", "Galway")
    set_value(owner, "client-billing-country", "IE")
    owner.find(marker="client-save").click()
    await until(lambda: client_count() == 3)
    created = client_row("Harbour Bakery")
    assert (created.currency, created.email, created.city) == ("EUR", "Accounts@harbour.example", "Galway")
    await owner.should_see("Outstanding Invoices", retries=40)  # on to the client's page
    await owner.should_see("No contact persons yet.")
    await owner.open("/admin/clients")
    await until(lambda: "Harbour Bakery" in names(owner))
    [row] = [row for row in table_rows(owner) if row["name"] == "Harbour Bakery"]
    assert (row["company"], row["currency"]) == ("Harbour Bakery Ltd", "EUR")
    assert row["outstanding"] == row["credits"] == row["retainer"] == "€0.00"


async def test_edit_saves_the_details_and_refuses_a_bad_website(owner: User) -> None:
    await owner.open("/admin/clients")
    await owner.should_see("New client")
    set_value(owner, "clients-search", "kowalski")
    await until(lambda: names(owner) == ["Kowalski Translations"])
    public_id = client_row("Kowalski Translations").public_id
    await owner.open(f"/admin/clients/{public_id}")
    owner.find(marker="client-edit").click()
    await owner.should_see("Edit client", retries=40)
    set_value(owner, "client-website", "not a website at all")
    owner.find(marker="client-save").click()
    await owner.should_see("Nothing was saved: 1 field needs correcting.", retries=40)
    assert error_of(owner, "client-website")
    assert client_row("Kowalski Translations").website == ""
    set_value(owner, "client-website", "kowalski.example")
    set_value(owner, "client-tax-number", "DE123456789")
    set_value(owner, "client-same-address", False)
    set_value(owner, "client-shipping-line1", "Lagerweg 3")
    set_value(owner, "client-shipping-city", "Potsdam")
    set_value(owner, "client-shipping-postal-code", "14467")
    set_value(owner, "client-shipping-country", "DE")
    owner.find(marker="client-save").click()
    await until(lambda: client_row("Kowalski Translations").tax_number == "DE123456789")
    saved = client_row("Kowalski Translations")
    assert (saved.website, saved.shipping_city) == ("https://kowalski.example", "Potsdam")
    await owner.should_see("DE123456789", retries=40)
    await owner.should_see("Lagerweg 3")


async def test_the_currency_is_read_only_once_the_client_has_documents(owner: User) -> None:
    bluebird = client_row("Bluebird Cafe")
    await owner.open(f"/admin/clients/{bluebird.public_id}")
    await owner.should_see("Recent invoices")
    await until(lambda: bool(table_rows(owner)))
    rows = table_rows(owner)
    assert all(row["total"].startswith("$") for row in rows)
    (new_invoice,) = owner.find(marker="client-new-invoice").elements
    assert new_invoice.props["href"] == f"/admin/invoices/new?client={bluebird.public_id}"
    owner.find(marker="client-edit").click()
    await owner.should_see("Edit client", retries=40)
    (currency,) = owner.find(marker="client-currency").elements
    assert currency.props.get("readonly") is True
    assert "Fixed: this client has documents in USD" in currency.props["hint"]
    set_value(owner, "client-currency", "EUR")  # what a tampered browser could send
    owner.find(marker="client-save").click()
    await owner.should_see(
        "Bluebird Cafe already has documents in USD, so its currency cannot change.", retries=40
    )
    assert client_row("Bluebird Cafe").currency == "USD"


async def test_a_contact_is_invited_and_a_resent_invitation_replaces_the_first_link(owner: User) -> None:
    bluebird = client_row("Bluebird Cafe")
    await owner.open(f"/admin/clients/{bluebird.public_id}")
    await owner.should_see("Contact persons")
    await owner.should_see("Active")  # the demo contact has a password
    owner.find(marker="contact-add").click()
    await owner.should_see("Add and invite", retries=40)
    set_value(owner, "contact-name", "Maeve Byrne")
    set_value(owner, "contact-email", "other@client.example")  # another client's contact
    owner.find(marker="contact-save").click()
    await until(lambda: "already the e-mail of a contact" in error_of(owner, "contact-email"))
    set_value(owner, "contact-email", NEW_CONTACT)
    owner.find(marker="contact-save").click()
    await until(lambda: len(links_to(NEW_CONTACT)) == 1)
    [first] = links_to(NEW_CONTACT)
    assert check_token(portal.current().db, first).email == NEW_CONTACT
    await owner.should_see("Invited", retries=40)

    owner.find(marker=f"contact-resend-{NEW_CONTACT}").click()
    await until(lambda: len(links_to(NEW_CONTACT)) == 2)
    _, second = links_to(NEW_CONTACT)
    with pytest.raises(InvalidToken):
        check_token(portal.current().db, first)
    assert check_token(portal.current().db, second).email == NEW_CONTACT
    await owner.should_see("The link in the earlier one no longer works.", retries=40)


async def test_resending_stops_at_five_invitations_an_hour(owner: User) -> None:
    bluebird = client_row("Bluebird Cafe")
    await owner.open(f"/admin/clients/{bluebird.public_id}")
    owner.find(marker="contact-add").click()
    await owner.should_see("Add and invite", retries=40)
    set_value(owner, "contact-name", "Maeve Byrne")
    set_value(owner, "contact-email", NEW_CONTACT)
    owner.find(marker="contact-save").click()
    await until(lambda: len(links_to(NEW_CONTACT)) == 1)
    for sent in range(2, 6):
        owner.find(marker=f"contact-resend-{NEW_CONTACT}").click()
        await until(partial(lambda count: len(links_to(NEW_CONTACT)) == count, sent))
    owner.find(marker=f"contact-resend-{NEW_CONTACT}").click()
    await owner.should_see("At most 5 invitations an hour can be sent to one contact.", retries=40)
    assert len(links_to(NEW_CONTACT)) == 5


async def test_a_disabled_contact_is_signed_out_and_cannot_sign_in_until_enabled(owner: User) -> None:
    assert location(await post_login(owner)) == "/"
    session_cookie = owner.http_client.cookies["portal_session"]
    assert (await owner.http_client.get("/")).status_code == 200
    bluebird = client_row("Bluebird Cafe")
    await owner.open(f"/admin/clients/{bluebird.public_id}")
    await owner.should_see(marker=f"contact-disable-{CUSTOMER_EMAIL}", retries=40)
    owner.find(marker=f"contact-disable-{CUSTOMER_EMAIL}").click()
    await owner.should_see("Disable Dana Demo?", retries=40)
    owner.find(marker="contact-disable-confirm").click()
    await until(lambda: not contact(CUSTOMER_EMAIL).is_active)
    await owner.should_see("Dana Demo can no longer sign in to the portal.", retries=40)
    await owner.should_see("Disabled")

    owner.http_client.cookies.set("portal_session", session_cookie)
    ended = await owner.http_client.get("/")
    assert location(ended).startswith("/login")
    assert query(location(await post_login(owner)))["error"] == "invalid"

    owner.find(marker=f"contact-enable-{CUSTOMER_EMAIL}").click()
    await until(lambda: contact(CUSTOMER_EMAIL).is_active)
    assert location(await post_login(owner)) == "/"
    owner.http_client.cookies.set("portal_session", session_cookie)
    assert location(await owner.http_client.get("/")).startswith("/login")  # the ended session stays ended


async def test_staff_members_use_clients_too(staff: User) -> None:
    await staff.open("/admin/clients")
    await until(lambda: names(staff) == ["Bluebird Cafe", "Kowalski Translations"])
    await staff.open(f"/admin/clients/{client_row('Kowalski Translations').public_id}")
    await staff.should_see("Contact persons")
    staff.find(kind=ui.button, content="Add contact").click()
    await staff.should_see("Add and invite", retries=40)
    set_value(staff, "contact-name", "Kasia Nowak")
    set_value(staff, "contact-email", "kasia@kowalski.example")
    staff.find(marker="contact-save").click()
    await until(lambda: len(links_to("kasia@kowalski.example")) == 1)


async def test_an_unknown_client_is_not_found(owner: User) -> None:
    response = await owner.http_client.get("/admin/clients/not-a-client-id")
    assert response.status_code == 404
