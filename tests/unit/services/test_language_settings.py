"""Languages, locales and time zones: the business's in Settings, each customer's own."""

from __future__ import annotations

import pytest

from services.auth import resolve_session, sign_in
from services.branding import defaults_version, language_defaults
from services.database import Database
from services.errors import InvalidDetails
from services.language_settings import (
    Preferences,
    RegionalSettings,
    get_customer_preferences,
    get_regional_settings,
    language_choices,
    set_customer_preferences,
    update_regional_settings,
)
from tests.factories import fixed_clock, make_customer, make_organization


def test_the_business_chooses_its_locale_language_and_time_zone(db: Database) -> None:
    organization_id = make_organization(db)
    before = defaults_version()
    change = RegionalSettings(locale="de_AT", default_language="de", time_zone="Europe/Vienna")
    assert update_regional_settings(db, organization_id, change, clock=fixed_clock) == change
    assert get_regional_settings(db, organization_id) == change
    defaults = language_defaults(db)
    assert (defaults.language, defaults.locale, defaults.time_zone) == ("de", "de_AT", "Europe/Vienna")
    assert defaults_version() != before  # this process's readers see it at once


def test_each_unknown_choice_is_named_and_nothing_is_saved(db: Database) -> None:
    organization_id = make_organization(db)
    before = get_regional_settings(db, organization_id)
    with pytest.raises(InvalidDetails) as raised:
        update_regional_settings(db, organization_id, RegionalSettings("xx_YY", "tlh", "Mars/Olympus"))
    assert set(raised.value.errors) == {"locale", "default_language", "time_zone"}
    assert get_regional_settings(db, organization_id) == before


def test_a_customers_own_language_comes_with_their_session(db: Database) -> None:
    customer = make_customer(db)
    assert get_customer_preferences(db, customer) == Preferences()
    set_customer_preferences(db, customer, Preferences("fr", "Europe/Paris"), clock=fixed_clock)
    assert get_customer_preferences(db, customer) == Preferences("fr", "Europe/Paris")
    issued = sign_in(db, email=customer.email, password="Correct-Horse-9", ip_address="127.0.0.1", rounds=4)
    principal = resolve_session(db, issued.token)
    assert principal is not None
    assert (principal.language, principal.time_zone) == ("fr", "Europe/Paris")


def test_a_customer_cannot_choose_a_language_the_portal_lacks(db: Database) -> None:
    customer = make_customer(db)
    with pytest.raises(InvalidDetails) as raised:
        set_customer_preferences(db, customer, Preferences("tlh", "Nowhere/Atlantis"))
    assert set(raised.value.errors) == {"language", "time_zone"}


def test_the_languages_are_named_in_themselves() -> None:
    assert language_choices() == {"en": "English", "de": "Deutsch", "es": "Español", "fr": "Français"}
