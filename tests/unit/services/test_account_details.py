"""Account details: every field is checked at once with a sentence each; a refused save changes
nothing; a save that changes something is an audit event with the old and new values."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, Client, PortalUser
from services.account_details import (
    ADDRESSES_UPDATED,
    DETAILS_UPDATED,
    AccountForm,
    AddressInput,
    ContactChange,
    billing_address,
    countries,
    dial_uri,
    get_account,
    update_addresses,
    update_contact,
    website_url,
)
from services.errors import InvalidDetails, NotFound, human_message
from services.i18n import using_language
from services.pay_links import LinkPayer
from services.principal import Principal
from tests.factories import NOW, Clock, make_customer
from tests.snapshots import snapshot

BERLIN = AddressInput("Friedrichstraße 43", "Hinterhaus", "Berlin", "", "10117", "DE")


@pytest.fixture
def ann(db):
    return make_customer(db)


def contact(**changes):
    values = dict(
        name="Ann Smith",
        company_name="Client Ltd",
        email="billing@client.example",
        phone="",
        website="",
        tax_number="",
    )
    return ContactChange(**(values | changes))


def events(db, action):
    with db.reading() as session:
        # in the order they were recorded (PostgreSQL returns rows in no particular order otherwise)
        return session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def test_the_form_starts_with_the_stored_values(db, ann):
    form = get_account(db, ann)
    assert form == AccountForm(
        login_email="ann@client.example",
        contact=ContactChange("Ann", "Client Ltd", "billing@clientltd.example", "", "", ""),
        billing=AddressInput(),
        shipping=AddressInput(),
    )
    assert form.shipping_same_as_billing


def test_contact_details_are_saved_normalised_and_audited(db, ann):
    update_addresses(db, ann, BERLIN, AddressInput(), clock=Clock())
    saved = update_contact(
        db,
        ann,
        contact(
            name="  Ann   Smith ",
            email="Billing@Client.EXAMPLE",
            phone="030 1234567",
            website="client.example",
            tax_number=" DE123456789 ",
        ),
        clock=Clock(),
    )
    assert saved.contact == ContactChange(
        "Ann Smith",
        "Client Ltd",
        "Billing@client.example",
        "+49 30 1234567",
        "https://client.example",
        "DE123456789",
    )
    assert saved.changed == ("name", "email", "phone", "website", "tax_number")
    assert get_account(db, ann).contact == saved.contact
    with db.reading() as session:
        user = session.get_one(PortalUser, ann.portal_user_id)
        client = session.get_one(Client, ann.client_id)
    assert (user.name, user.phone) == ("Ann Smith", "+49 30 1234567")
    assert (client.website, client.tax_number) == ("https://client.example", "DE123456789")
    [event] = events(db, DETAILS_UPDATED)
    assert event.client_id == ann.client_id
    assert event.portal_user_id == ann.portal_user_id
    assert event.created_at == NOW
    assert event.details["changes"]["phone"] == {"old": "", "new": "+49 30 1234567"}
    assert event.details["changes"]["name"] == {"old": "Ann", "new": "Ann Smith"}
    assert "company_name" not in event.details["changes"]


def test_a_phone_number_with_its_country_code_needs_no_billing_country(db, ann):
    saved = update_contact(db, ann, contact(phone="+1 (415) 555-0132"), clock=Clock())
    assert saved.contact.phone == "+1 415-555-0132"


def test_an_invalid_phone_number_is_refused_and_nothing_changes(db, ann):
    update_addresses(db, ann, BERLIN, AddressInput(), clock=Clock())
    before = snapshot(db)
    with pytest.raises(InvalidDetails) as refused:
        update_contact(db, ann, contact(phone="12345"), clock=Clock())
    assert refused.value.errors == {"phone": "This is not a valid phone number."}
    assert human_message(refused.value) == "Nothing was saved: 1 field needs correcting."
    assert snapshot(db) == before


def test_a_local_number_without_a_billing_country_asks_for_the_country_code(db, ann):
    with pytest.raises(InvalidDetails) as refused:
        update_contact(db, ann, contact(phone="415 555 0132"), clock=Clock())
    assert refused.value.errors == {"phone": "Enter the number with its country code, like +44 20 7946 0958."}


def test_every_wrong_field_gets_its_own_message_at_once(db, ann):
    before = snapshot(db)
    with pytest.raises(InvalidDetails) as refused:
        update_contact(
            db,
            ann,
            contact(
                name="  ",
                email="not-an-address",
                phone="call me",
                website="javascript:alert(1)",
                tax_number="X" * 51,
            ),
            clock=Clock(),
        )
    errors = refused.value.errors
    assert set(errors) == {"name", "email", "phone", "website", "tax_number"}
    assert errors["name"] == "Enter your name."
    assert errors["email"] == "This is not a valid e-mail address."  # without the library's English
    assert errors["phone"] == "This is not a valid phone number."
    assert errors["website"] == "Enter a web address like https://example.com."
    assert errors["tax_number"] == "Use at most 50 characters."
    assert human_message(refused.value) == "Nothing was saved: 5 fields need correcting."
    assert snapshot(db) == before


def test_refused_contact_details_are_explained_in_the_readers_language(db, ann):
    with using_language("es"), pytest.raises(InvalidDetails) as refused:
        update_contact(db, ann, contact(email="not-an-address", tax_number="X" * 51), clock=Clock())
    assert refused.value.errors == {
        "email": "No es una dirección de correo electrónico válida.",
        "tax_number": "Use como máximo 50 caracteres.",
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("example.com", "https://example.com"),
        ("HTTP://Example.com/Team", "http://example.com/Team"),
        ("https://shop.example.co.uk:8443/a?b=c", "https://shop.example.co.uk:8443/a?b=c"),
        ("bücher.de", "https://bücher.de"),
        ("", ""),
    ],
)
def test_websites_are_stored_as_http_addresses(db, ann, typed, stored):
    assert update_contact(db, ann, contact(website=typed), clock=Clock()).contact.website == stored


@pytest.mark.parametrize(
    "typed",
    [
        "ftp://example.com",
        "localhost",
        "https://user@example.com",
        "example",
        "exa mple.com",
        "http://1.2.3.4",
        "https://example.com:99999",
        "mailto:ann@example.com",
    ],
)
def test_other_web_addresses_are_refused(db, ann, typed):
    with pytest.raises(InvalidDetails) as refused:
        update_contact(db, ann, contact(website=typed), clock=Clock())
    assert set(refused.value.errors) == {"website"}


@pytest.mark.parametrize(
    ("phone", "country", "dialled"),
    [
        ("+1 415 555 0142", "", "tel:+14155550142"),  # as stored, in international format
        ("(415) 555-0199", "US", "tel:+14155550199"),  # without its country code: the business's country
        ("030 1234567", "DE", "tel:+49301234567"),
        ("+44 20 7946 0958", "DE", "tel:+442079460958"),  # its own country code wins
        ("+49 (0) 30 1234567", "", "tel:+49301234567"),  # the national (0) left out
        ("0301234567 ext. 12", "", ""),  # not readable without a country, and not only digits
        ("030-123 / 4567", "", "tel:0301234567"),  # not readable without a country: its digits
        ("0800 FLOWERS", "", ""),  # part of it would dial the wrong number
        ("ask at the desk", "US", ""),  # nothing to dial: no link
        ("", "US", ""),
    ],
)
def test_a_phone_link_dials_the_number_in_e164_when_it_can(phone, country, dialled):
    assert dial_uri(phone, country) == dialled


@pytest.mark.parametrize(
    ("website", "url"),
    [
        ("https://northwind.example", "https://northwind.example"),
        ("northwind.example/team", "https://northwind.example/team"),  # https:// added
        ("HTTP://Northwind.example", "http://northwind.example"),
        ("javascript:alert(1)", ""),  # never a link that runs script
        ("ftp://northwind.example", ""),
        ("not a website", ""),
        ("", ""),
    ],
)
def test_a_website_link_opens_an_http_address_only(website, url):
    assert website_url(website) == url


def test_a_save_without_changes_records_nothing(db, ann):
    same = get_account(db, ann).contact
    assert update_contact(db, ann, same, clock=Clock()).changed == ()
    assert events(db, DETAILS_UPDATED) == []


def test_addresses_are_saved_and_audited_with_shipping_as_billing_when_empty(db, ann):
    saved = update_addresses(
        db,
        ann,
        AddressInput(" Friedrichstraße 43 ", "", "Berlin", "", " 10117 ", "de"),
        AddressInput(),
        clock=Clock(),
    )
    assert saved.billing == AddressInput("Friedrichstraße 43", "", "Berlin", "", "10117", "DE")
    assert saved.shipping == AddressInput()
    form = get_account(db, ann)
    assert form.billing == saved.billing
    assert form.shipping_same_as_billing
    [event] = events(db, ADDRESSES_UPDATED)
    assert event.details["changes"]["billing.city"] == {"old": "", "new": "Berlin"}
    assert not any(key.startswith("shipping.") for key in event.details["changes"])


def test_a_separate_shipping_address_is_kept_and_can_be_removed_again(db, ann):
    warehouse = AddressInput("Unit 4", "Harbour Road", "Dublin", "", "", "IE")
    update_addresses(db, ann, BERLIN, warehouse, clock=Clock())
    with db.reading() as session:
        client = session.get_one(Client, ann.client_id)
    assert (client.address_line1, client.city, client.shipping_line1, client.shipping_country) == (
        "Friedrichstraße 43",
        "Berlin",
        "Unit 4",
        "IE",
    )
    assert get_account(db, ann).shipping == warehouse
    update_addresses(db, ann, BERLIN, AddressInput("", " ", "", "", "", ""), clock=Clock())
    assert get_account(db, ann).shipping_same_as_billing
    last = events(db, ADDRESSES_UPDATED)[-1]
    assert last.details["changes"]["shipping.line1"] == {"old": "Unit 4", "new": ""}


def test_a_missing_postal_code_is_refused_and_nothing_changes(db, ann):
    before = snapshot(db)
    with pytest.raises(InvalidDetails) as refused:
        update_addresses(
            db, ann, AddressInput("Main St 1", "", "Berlin", "", "", "DE"), AddressInput(), clock=Clock()
        )
    assert refused.value.errors == {"billing.postal_code": "Enter the postal code."}
    assert snapshot(db) == before


@pytest.mark.parametrize("country", ["HK", "AE", "IE"])
def test_the_postal_code_is_optional_where_addresses_have_none(db, ann, country):
    address = AddressInput("1 Harbour Road", "", "Wan Chai", "", "", country)
    assert update_addresses(db, ann, address, AddressInput(), clock=Clock()).billing == address


def test_every_wrong_address_field_is_named_for_its_address(db, ann):
    before = snapshot(db)
    billing = AddressInput("", "", "", "", "10117", "XX")
    with pytest.raises(InvalidDetails) as refused:
        update_addresses(db, ann, billing, AddressInput("Dock 2", "", "", "", "#1", "US"), clock=Clock())
    assert refused.value.errors == {
        "billing.line1": "Enter the street and number.",
        "billing.city": "Enter the city.",
        "billing.country": "Choose a country from the list.",
        "shipping.city": "Enter the city.",
        "shipping.postal_code": "This is not a valid postal code.",
    }
    assert snapshot(db) == before


def test_a_missing_country_is_asked_for(db, ann):
    billing = AddressInput("1 Main St", "", "Springfield", "IL", "62701", "")
    with pytest.raises(InvalidDetails) as refused:
        update_addresses(db, ann, billing, AddressInput(), clock=Clock())
    assert refused.value.errors == {"billing.country": "Choose a country."}


def test_another_clients_details_cannot_be_changed(db, ann):
    other = make_customer(db, ann.organization_id, name="Other Co", email="bob@other.example")
    intruder = Principal(ann.portal_user_id, other.client_id, ann.organization_id, "Ann", ann.email, 1)
    before = snapshot(db)
    with pytest.raises(NotFound):
        update_contact(db, intruder, contact(), clock=Clock())
    with pytest.raises(NotFound):
        update_addresses(db, intruder, BERLIN, AddressInput(), clock=Clock())
    with pytest.raises(NotFound):
        get_account(db, intruder)
    assert snapshot(db) == before


def test_countries_are_offered_by_name():
    offered = dict(countries())
    assert offered["DE"] == "Germany"
    assert offered["GB"] == "United Kingdom"
    assert len(offered) > 240


def test_the_payment_form_starts_with_the_billing_address_of_the_one_who_pays(db, ann):
    update_addresses(db, ann, BERLIN, AddressInput(), clock=Clock())
    assert billing_address(db, ann) == BERLIN
    # Whoever pays through a pay link gets the address the link's invoice is made out to.
    payer = LinkPayer(ann.client_id, ann.organization_id, "billing@clientltd.example", "Client Ltd")
    assert billing_address(db, payer) == BERLIN
    other = make_customer(db, ann.organization_id, name="Other Co", email="olga@other.example")
    assert billing_address(db, other) == AddressInput()
