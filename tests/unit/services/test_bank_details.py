"""The business's tax number and bank account: each wrong IBAN, BIC or tax number gets a message that says
what to fix and nothing is saved; a good one is kept as banks write it, and invoices carry it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from models import Client, Organization
from services.account_details import AddressInput
from services.bank_details import clean_bic, clean_iban, clean_tax_id, vat_id
from services.business_documents import invoice_sheet
from services.business_profile import ProfileChange, get_profile, update_profile
from services.database import Database
from services.document_settings import DocumentSettingsChange, get_document_settings, update_document_settings
from services.errors import InvalidDetails
from services.invoice_detail import get_invoice
from services.invoices import void_invoice
from tests.factories import fixed_clock, make_customer, make_sent_invoice

ADDRESS = AddressInput("Hauptstraße 1", "", "Berlin", "", "10115", "DE")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("DE89 3704 0044 0532 0130 01", "The IBAN's check digits do not match"),
        ("XX89 3704 0044 0532 0130 00", "An IBAN starts with its country's two-letter code"),
        ("DE89 3704 0044 0532 0130 0", "This IBAN has too few or too many characters"),
        ("DE89-3704-0044", "This is not a valid IBAN"),
    ],
)
def test_a_wrong_iban_says_what_is_wrong(typed: str, message: str) -> None:
    iban, problem = clean_iban(typed)
    assert iban == ""
    assert problem.startswith(message)


def test_an_iban_is_kept_compact_however_it_is_typed() -> None:
    assert clean_iban(" de89 3704 0044 0532 0130 00 ") == ("DE89370400440532013000", "")
    assert clean_iban("") == ("", "")


def test_a_bic_has_8_or_11_characters() -> None:
    assert clean_bic("cobadeffxxx") == ("COBADEFFXXX", "")
    assert clean_bic("DEUT")[1] == "A BIC has 8 or 11 letters and digits, like DEUTDEFF or DEUTDEFF500."
    assert clean_bic("") == ("", "")


def test_a_tax_number_keeps_its_form_and_says_whether_it_is_a_vat_id() -> None:
    assert clean_tax_id("  DE 123  456 789 ") == ("DE 123 456 789", "")
    assert clean_tax_id("12/345/67890") == ("12/345/67890", "")
    assert clean_tax_id("DE123<script>")[1] == "Use only letters, digits, spaces and - . /"
    assert vat_id("de 123 456 789") == "DE123456789"
    assert vat_id("CHE-123.456.789 MWST") == "CHE123456789MWST"
    assert vat_id("12/345/67890") == ""


def profile_change(**fields: str) -> ProfileChange:
    values = {"tax_id": "", "bank_name": "", "iban": "", "bic": ""} | fields
    return ProfileChange("Atelier Nord GmbH", ADDRESS, "rechnung@atelier-nord.example", **values)


def test_the_tax_number_and_bank_account_are_saved(db: Database) -> None:
    organization_id = make_customer(db).organization_id
    change = profile_change(
        tax_id="DE 123 456 789",
        bank_name=" Commerzbank ",
        iban="de89 3704 0044 0532 0130 00",
        bic="cobadeffxxx",
    )
    saved = update_profile(db, organization_id, change, clock=fixed_clock)
    assert saved == get_profile(db, organization_id)
    assert (saved.tax_id, saved.bank_name, saved.iban, saved.bic) == (
        "DE 123 456 789",
        "Commerzbank",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )


def test_a_wrong_iban_and_bic_save_nothing(db: Database) -> None:
    organization_id = make_customer(db).organization_id
    update_profile(db, organization_id, profile_change(iban="DE89370400440532013000"), clock=fixed_clock)
    before = get_profile(db, organization_id)
    with pytest.raises(InvalidDetails) as raised:
        update_profile(
            db, organization_id, profile_change(tax_id="DE999", iban="DE00 1234", bic="XY"), clock=fixed_clock
        )
    assert set(raised.value.errors) == {"iban", "bic"}
    assert get_profile(db, organization_id) == before


# --- what invoices carry -------------------------------------------------------------------------------


def set_business(db: Database, organization_id: int, **values: object) -> None:
    with db.transaction() as session:
        session.execute(update(Organization).where(Organization.id == organization_id).values(**values))


def set_client_country(db: Database, client_id: int, country: str) -> None:
    with db.transaction() as session:
        session.execute(update(Client).where(Client.id == client_id).values(country=country))


def turn_on_e_invoices(db: Database, organization_id: int) -> None:
    current = get_document_settings(db, organization_id)
    change = DocumentSettingsChange(
        (), str(current.payment_terms_days), current.default_terms, current.default_notes, e_invoices=True
    )
    update_document_settings(db, organization_id, change, clock=fixed_clock)


def test_e_invoices_need_the_businesss_vat_id_and_country(db: Database) -> None:
    organization_id = make_customer(db).organization_id
    set_business(db, organization_id, tax_id="12/345/67890")
    with pytest.raises(InvalidDetails) as raised:
        turn_on_e_invoices(db, organization_id)
    assert raised.value.errors["e_invoices"].startswith("E-invoices carry your VAT ID")
    set_business(db, organization_id, tax_id="DE123456789", country="")
    with pytest.raises(InvalidDetails) as raised:
        turn_on_e_invoices(db, organization_id)
    assert raised.value.errors["e_invoices"].startswith("E-invoices carry your business's country")
    assert get_document_settings(db, organization_id).e_invoices is False

    set_business(db, organization_id, country="DE")
    turn_on_e_invoices(db, organization_id)
    assert get_document_settings(db, organization_id).e_invoices is True


def test_an_issued_invoice_carries_the_bank_account_tax_numbers_and_e_invoice(db: Database) -> None:
    customer = make_customer(db, currency="EUR")
    set_business(
        db, customer.organization_id, tax_id="DE123456789", country="DE", iban="DE89370400440532013000"
    )
    set_client_country(db, customer.client_id, "FR")
    turn_on_e_invoices(db, customer.organization_id)
    invoice = make_sent_invoice(db, customer.client_id, 12_000)
    document = get_invoice(db, customer, invoice.public_id, today=date(2026, 1, 1))
    assert document.bank is not None
    assert document.bank.iban_grouped == "DE89 3704 0044 0532 0130 00"
    assert document.business.tax_id == "DE123456789"
    assert document.e_invoice is True
    assert document.pays_by_epc_qr is True
    # The back office's PDF is the same document.
    sheet = invoice_sheet(db, customer.organization_id, invoice.public_id, today=date(2026, 1, 1))
    assert (sheet.document.bank, sheet.document.e_invoice) == (document.bank, True)


def test_no_e_invoice_for_a_void_invoice_or_a_client_without_a_country(db: Database) -> None:
    customer = make_customer(db, currency="EUR")
    set_business(db, customer.organization_id, tax_id="DE123456789", country="DE")
    turn_on_e_invoices(db, customer.organization_id)
    invoice = make_sent_invoice(db, customer.client_id, 12_000)
    assert (
        get_invoice(db, customer, invoice.public_id, today=date(2026, 1, 1)).e_invoice is False
    )  # no country
    set_client_country(db, customer.client_id, "FR")
    assert get_invoice(db, customer, invoice.public_id, today=date(2026, 1, 1)).e_invoice is True
    void_invoice(db, invoice.id, clock=fixed_clock)
    voided = get_invoice(db, customer, invoice.public_id, today=date(2026, 1, 1))
    assert voided.e_invoice is False  # a void invoice must not be booked by the customer's software
    assert voided.pays_by_epc_qr is False
