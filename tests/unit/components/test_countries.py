"""The country selects name each country in the reader's language, in that language's order."""

from __future__ import annotations

from components.countries import country_options
from services.account_details import countries
from services.i18n import using_language


def test_the_country_selects_name_countries_in_the_readers_language() -> None:
    assert country_options()["DE"] == "Germany"
    with using_language("de"):
        assert country_options()["DE"] == "Deutschland"
        assert country_options()["US"] == "Vereinigte Staaten"
    with using_language("fr"):
        assert country_options()["DE"] == "Allemagne"
    with using_language("es"):
        assert country_options()["DE"] == "Alemania"
    assert country_options()["DE"] == "Germany"  # each reader their own, whoever asked first


def test_countries_are_sorted_by_their_name_in_that_language_accents_aside() -> None:
    with using_language("de"):
        names = list(country_options().values())
    assert names.index("Oman") < names.index("Österreich") < names.index("Pakistan")  # not after Z
    assert names.index("Ägypten") < names.index("Albanien") < names.index("Deutschland")


def test_the_customers_address_form_follows_the_reader_too() -> None:
    with using_language("fr"):
        assert dict(countries())["GB"] == "Royaume-Uni"
    assert dict(countries())["GB"] == "United Kingdom"
