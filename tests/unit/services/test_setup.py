"""First run: the business and its owner are created once, from checked details, in one go."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from models import AuditEvent, Organization, StaffUser
from services.account_details import AddressInput
from services.errors import InvalidDetails
from services.passwords import verify_password
from services.setup import (
    AlreadySetUp,
    SetupForm,
    default_currency,
    needs_setup,
    set_up_business,
    suggested_locale,
)
from services.staff_auth import sign_in_staff
from tests.factories import Clock

PASSWORD = "Lantern-Orchard-Quartz-77"

FORM = SetupForm(
    business_name="  Harbour   Bakery ",
    address=AddressInput("12 Quay Street", "", "Galway", "", "H91 X2Y3", "ie"),
    email="Hello@Harbour-Bakery.example",
    owner_name="Maeve Byrne",
    owner_email="Maeve@Harbour-Bakery.example",
    password=PASSWORD,
    confirm=PASSWORD,
    phone="091 524 411",
    website="harbour-bakery.example",
    currency="eur",
    locale="en_IE",
)


def counts(db) -> tuple[int, int]:
    with db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Organization)) or 0,
            session.scalar(select(func.count()).select_from(StaffUser)) or 0,
        )


def set_up(db, form=FORM):
    return set_up_business(db, form, clock=Clock(), rounds=4, ip_address="10.0.0.1")


def test_an_empty_portal_needs_setup_and_a_set_up_one_does_not(db):
    assert needs_setup(db)
    set_up(db)
    assert not needs_setup(db)


def test_setup_creates_the_business_and_its_owner_with_tidied_details(db):
    done = set_up(db)
    assert (done.business_name, done.owner_email, done.currency) == (
        "Harbour Bakery",
        "maeve@harbour-bakery.example",
        "EUR",
    )
    with db.reading() as session:
        business = session.scalars(select(Organization)).one()
        owner = session.scalars(select(StaffUser)).one()
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "business.set_up")).one()
    assert (business.name, business.country, business.city, business.postal_code) == (
        "Harbour Bakery",
        "IE",
        "Galway",
        "H91 X2Y3",
    )
    assert business.phone == "+353 91 524 411"
    assert business.website == "https://harbour-bakery.example"
    assert (business.default_currency, business.locale, business.is_demo) == ("EUR", "en_IE", False)
    assert (owner.role, owner.organization_id, owner.name) == ("owner", business.id, "Maeve Byrne")
    assert verify_password(PASSWORD, owner.password_hash)
    assert event.staff_user_id == owner.id


def test_the_owner_can_sign_in_after_setup(db):
    set_up(db)
    issued = sign_in_staff(db, email="maeve@harbour-bakery.example", password=PASSWORD, ip_address="10.0.0.1")
    assert issued.principal.is_owner


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"business_name": "   "}, "business_name", "Enter the business's name."),
        ({"password": "password1", "confirm": "password1"}, "password", "easy to guess"),
        ({"password": "maeve byrne", "confirm": "maeve byrne"}, "password", "your name"),
        ({"confirm": "Something-Else-88"}, "confirm", "do not match"),
        ({"owner_email": "maeve@"}, "owner_email", "not a valid e-mail address"),
        ({"email": ""}, "email", "Enter the business's e-mail address."),
        ({"currency": "EUX"}, "currency", "Choose a currency from the list"),
        ({"currency": "XAU"}, "currency", "Choose a currency from the list"),
        ({"owner_name": ""}, "owner_name", "Enter your name."),
        ({"website": "not a site"}, "website", "Enter a web address"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_created(db, change, field, message):
    with pytest.raises(InvalidDetails) as refused:
        set_up(db, replace(FORM, **change))
    assert message in refused.value.errors[field]
    assert counts(db) == (0, 0)
    assert needs_setup(db)


def test_address_problems_are_keyed_by_address_field(db):
    with pytest.raises(InvalidDetails) as refused:
        set_up(db, replace(FORM, address=AddressInput("", "", "", "", "", "ZZ")))
    assert set(refused.value.errors) >= {"address.line1", "address.city", "address.country"}


def test_a_second_setup_is_refused_and_changes_nothing(db):
    set_up(db)
    with pytest.raises(AlreadySetUp):
        set_up(db, replace(FORM, business_name="Takeover Ltd", owner_email="intruder@evil.example"))
    with pytest.raises(AlreadySetUp):  # refused before its details are even looked at
        set_up(db, replace(FORM, business_name=""))
    with db.reading() as session:
        assert session.scalars(select(Organization.name)).all() == ["Harbour Bakery"]
        assert session.scalars(select(StaffUser.email)).all() == ["maeve@harbour-bakery.example"]


def test_of_two_simultaneous_setups_exactly_one_wins(db):
    other = replace(FORM, business_name="Rival Bakery", owner_email="rival@bakery.example")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(set_up, db, form) for form in (FORM, other)]
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result().business_name)
        except AlreadySetUp:
            outcomes.append("refused")
    assert outcomes.count("refused") == 1
    assert counts(db) == (1, 1)


def test_a_business_row_without_staff_is_completed_not_duplicated(db):
    from tests.factories import make_organization

    make_organization(db, name="Left Over")
    set_up(db)
    with db.reading() as session:
        assert session.scalars(select(Organization.name)).all() == ["Harbour Bakery"]


def test_the_currency_and_locale_are_suggested_from_the_country_and_browser():
    assert default_currency("DE") == "EUR"
    assert default_currency("ch") == "CHF"
    assert default_currency("") == "USD"
    assert suggested_locale("de-AT,de;q=0.9,en;q=0.5") == "de_AT"
    assert suggested_locale("en") == "en_US"
    assert suggested_locale("xx-??, *") == "en_US"
