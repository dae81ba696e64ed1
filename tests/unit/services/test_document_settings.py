"""Number formats, terms and tax rates: numbers never repeat, every bad input has its message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.database import Database
from services.document_settings import (
    DocumentSettingsChange,
    NumberFormatInput,
    get_document_settings,
    update_document_settings,
)
from services.errors import InvalidDetails, NotFound
from services.i18n import using_language
from services.tax_rates import (
    create_tax_rate,
    delete_tax_rate,
    list_tax_rates,
    set_default_tax_rate,
    update_tax_rate,
)
from tests.factories import fixed_clock, make_client, make_organization, make_sent_invoice


def change(db: Database, organization_id: int, **formats: tuple[str, str, str]) -> DocumentSettingsChange:
    current = get_document_settings(db, organization_id)
    rows = tuple(
        NumberFormatInput(f.kind, *formats.get(f.kind, (f.prefix, str(f.width), str(f.next_value))))
        for f in current.formats
    )
    return DocumentSettingsChange(
        rows, str(current.payment_terms_days), current.default_terms, current.default_notes
    )


def test_the_defaults_before_any_document(db: Database) -> None:
    settings = get_document_settings(db, make_organization(db))
    assert [f.example for f in settings.formats] == ["INV-00001", "RET-00001", "RCPT-00001", "CN-00001"]
    assert settings.payment_terms_days == 30


def test_a_new_format_numbers_the_next_invoice(db: Database) -> None:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    update_document_settings(
        db, organization_id, change(db, organization_id, invoice=("A.", "3", "7")), clock=fixed_clock
    )
    assert make_sent_invoice(db, client_id, 1000).number == "A.007"
    assert get_document_settings(db, organization_id).format_of("invoice").example == "A.008"


def test_the_next_number_never_goes_back(db: Database) -> None:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    for _ in range(3):
        make_sent_invoice(db, client_id, 1000)
    with pytest.raises(InvalidDetails) as raised:
        update_document_settings(db, organization_id, change(db, organization_id, invoice=("INV-", "5", "3")))
    assert "INV-00003 has been used already" in raised.value.errors["invoice.next_value"]
    # Switching prefix and back does not reopen the old numbers either.
    update_document_settings(db, organization_id, change(db, organization_id, invoice=("B-", "5", "1")))
    with pytest.raises(InvalidDetails) as raised:
        update_document_settings(db, organization_id, change(db, organization_id, invoice=("INV-", "5", "2")))
    assert "4 or more" in raised.value.errors["invoice.next_value"]
    update_document_settings(db, organization_id, change(db, organization_id, invoice=("INV-", "5", "4")))
    assert make_sent_invoice(db, client_id, 1000).number == "INV-00004"


@pytest.mark.parametrize(
    ("row", "key", "words"),
    [
        (("IN V", "5", "1"), "invoice.prefix", "letters, digits"),
        (("ABCDEFGHIJKLM", "5", "1"), "invoice.prefix", "at most 12"),
        (("INV-", "0", "1"), "invoice.width", "1 to 10"),
        (("INV-", "11", "1"), "invoice.width", "1 to 10"),
        (("INV-", "five", "1"), "invoice.width", "whole number"),
        (("INV-", "5", "0"), "invoice.next_value", "at least 1"),
        (("INV-", "5", "-3"), "invoice.next_value", "whole number"),
        (("RET-", "5", "1"), "invoice.prefix", "use this prefix too"),
    ],
)
def test_bad_formats_are_refused(db: Database, row: tuple[str, str, str], key: str, words: str) -> None:
    organization_id = make_organization(db)
    before = get_document_settings(db, organization_id)
    with pytest.raises(InvalidDetails) as raised:
        update_document_settings(db, organization_id, change(db, organization_id, invoice=row))
    assert words in raised.value.errors[key]
    assert get_document_settings(db, organization_id) == before


@pytest.mark.parametrize(
    ("days", "ok"), [("0", True), ("365", True), ("366", False), ("x", False), ("", False)]
)
def test_payment_terms_are_0_to_365_days(db: Database, days: str, ok: bool) -> None:
    organization_id = make_organization(db)
    base = change(db, organization_id)
    wanted = DocumentSettingsChange(base.formats, days, "Pay promptly.", "Thanks!")
    if ok:
        saved = update_document_settings(db, organization_id, wanted)
        assert (saved.payment_terms_days, saved.default_terms, saved.default_notes) == (
            int(days),
            "Pay promptly.",
            "Thanks!",
        )
    else:
        with pytest.raises(InvalidDetails) as raised:
            update_document_settings(db, organization_id, wanted)
        assert "payment_terms_days" in raised.value.errors


def test_tax_rates_add_edit_default_delete(db: Database) -> None:
    organization_id = make_organization(db)
    vat = create_tax_rate(db, organization_id, " VAT ", "20", clock=fixed_clock)
    reduced = create_tax_rate(
        db, organization_id, "Reduced", "5,5 %", is_default=True, locale="de_DE", clock=fixed_clock
    )
    assert [(r.name, r.rate_percent, r.is_default) for r in list_tax_rates(db, organization_id)] == [
        ("Reduced", Decimal("5.5"), True),
        ("VAT", Decimal(20), False),
    ]
    set_default_tax_rate(db, organization_id, vat.public_id)
    assert [r.is_default for r in list_tax_rates(db, organization_id)] == [False, True]
    update_tax_rate(db, organization_id, vat.public_id, "VAT", "21")
    assert list_tax_rates(db, organization_id)[1].label == "VAT 21 %"
    delete_tax_rate(db, organization_id, reduced.public_id)
    assert [r.name for r in list_tax_rates(db, organization_id)] == ["VAT"]
    with pytest.raises(NotFound):
        delete_tax_rate(db, make_organization(db, "Other"), vat.public_id)  # another business's rate


@pytest.mark.parametrize(
    ("name", "rate", "key"),
    [("", "5", "name"), ("x" * 51, "5", "name"), ("GST", "", "rate"), ("GST", "101", "rate"),
     ("GST", "-1", "rate"), ("GST", "ten", "rate"), ("GST", "1.23456", "rate"), ("vat", "7", "name"),
     ("GST", "5,5", "rate")],  # "5,5" in en_US: 5.5 or 55?
)  # fmt: skip
def test_bad_or_duplicate_tax_rates_are_refused(db: Database, name: str, rate: str, key: str) -> None:
    organization_id = make_organization(db)
    create_tax_rate(db, organization_id, "VAT", "20")
    with pytest.raises(InvalidDetails) as raised:
        create_tax_rate(db, organization_id, name, rate)
    assert key in raised.value.errors
    assert [r.name for r in list_tax_rates(db, organization_id)] == ["VAT"]


def test_a_refused_tax_rate_is_explained_in_the_readers_language(db: Database) -> None:
    organization_id = make_organization(db)
    create_tax_rate(db, organization_id, "VAT", "20")
    with using_language("fr"):
        with pytest.raises(InvalidDetails) as taken:
            create_tax_rate(db, organization_id, "vat", "7")
        with pytest.raises(InvalidDetails) as too_long:
            create_tax_rate(db, organization_id, "x" * 51, "7")
    assert taken.value.errors["name"] == "Un taux nommé VAT existe déjà ; choisissez un autre nom."
    assert too_long.value.errors["name"] == "Utilisez au plus 50 caractères."
