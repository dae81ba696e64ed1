"""Update Account Details: the contact's and the company's details, the billing and shipping addresses.

Every field is checked before anything is written, and one ``InvalidDetails`` carries a sentence for
each wrong field, so a form can mark them all at once. A save that changes something is an audit
event with the old and new values, so the business can see who changed what.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
import pycountry
from babel.numbers import format_decimal
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, PortalUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.dashboard import country_names
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.i18n import _, formatting_locale
from services.principal import ActsForClient, Principal

DETAILS_UPDATED = "client.details_updated"
ADDRESSES_UPDATED = "client.addresses_updated"

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 50
MAX_WEBSITE_LENGTH = 200
MAX_TAX_NUMBER_LENGTH = 50
MAX_LINE_LENGTH = 200
MAX_CITY_LENGTH = 100
MAX_REGION_LENGTH = 100
MAX_POSTAL_CODE_LENGTH = 20

# Countries where an address needs no postal code, so the field is optional there: those for which
# Google's address metadata (libaddressinput, used by shops and browsers) has no postal code field.
# Ireland is listed too: it has Eircodes, but post arrives without one and many people do not know
# theirs. pycountry carries no such data. Listing a country by mistake only makes the field optional,
# while leaving one out would stop its customers from saving, so the set errs on the side of listing.
POSTAL_CODE_OPTIONAL = frozenset(
    {
        "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BQ", "BS", "BW", "BZ", "CD", "CF", "CG",
        "CI", "CK", "CM", "CW", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK",
        "IE", "JM", "KI", "KM", "KN", "KP", "LY", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW",
        "SB", "SC", "SL", "SR", "SS", "ST", "SX", "SY", "TD", "TG", "TK", "TL", "TO", "TV", "UG",
        "VU", "YE", "ZW",
    }
)  # fmt: skip

# Control characters have no place in a one-line field; runs of spaces are folded into one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_POSTAL_CODE = re.compile(r"[0-9A-Z][0-9A-Z -]*")
_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country")
# The billing address is the columns of AddressMixin; the shipping address is shipping_<field>.
_BILLING_COLUMNS = {"line1": "address_line1", "line2": "address_line2"} | {
    name: name for name in ("city", "region", "postal_code", "country")
}


@dataclass(frozen=True)
class ContactChange:
    """The personal and company details, as typed into the form or as stored."""

    name: str  # the contact person's (their login's) name
    company_name: str
    email: str  # the company's e-mail on invoices; the login address is not changed here
    phone: str  # the contact person's; stored in international format, "+49 30 1234567"
    website: str
    tax_number: str


@dataclass(frozen=True)
class AddressInput:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""  # state, province or region
    postal_code: str = ""
    country: str = ""  # ISO 3166 alpha-2, "DE"

    @property
    def is_empty(self) -> bool:
        return not any(value.strip() for value in asdict(self).values())


@dataclass(frozen=True)
class AccountForm:
    """The current values, to fill the forms with."""

    login_email: str  # shown, not editable here
    contact: ContactChange
    billing: AddressInput
    shipping: AddressInput  # every field empty when goods go to the billing address

    @property
    def shipping_same_as_billing(self) -> bool:
        return self.shipping.is_empty


@dataclass(frozen=True)
class DetailsSaved:
    contact: ContactChange  # as stored: trimmed, the phone and website normalised
    changed: tuple[str, ...]  # the fields whose value changed; empty if the save changed nothing


@dataclass(frozen=True)
class AddressesSaved:
    billing: AddressInput
    shipping: AddressInput  # empty: same as billing
    changed: tuple[str, ...]  # "billing.city", "shipping.line1", ...


def countries() -> tuple[tuple[str, str], ...]:
    """``(code, name)`` of every country in the reader's language, sorted by name, for a country select."""
    return tuple(country_names().items())


def get_account(db: Database, principal: Principal) -> AccountForm:
    """The signed-in customer's details and addresses as they are now."""
    with db.reading() as session:
        user, client = _rows(session, principal)
        return AccountForm(user.email, _stored_contact(user, client), _billing(client), _shipping(client))


def billing_address(db: Database, payer: ActsForClient) -> AddressInput:
    """The client's billing address, to fill in a payment form with: a signed-in customer's account,
    or, for whoever pays through a pay link, the address the link's invoice is made out to (printed
    on it already, so it tells them nothing new)."""
    with db.reading() as session:
        client = session.get(Client, payer.client_id)
        if client is None:
            raise NotFound("client", payer.client_id)
        return _billing(client)


def update_contact(
    db: Database, principal: Principal, change: ContactChange, *, clock: Clock = utc_now
) -> DetailsSaved:
    """Save the contact's name and phone and the company's name, e-mail, website and tax number.

    Raises ``InvalidDetails`` with a sentence per wrong field (keys are ``ContactChange`` field
    names); nothing is written then. A phone number without a country code is read as one of the
    billing address's country.
    """
    with db.transaction() as session:
        user, client = _rows(session, principal, lock=True)
        cleaned, errors = _clean_contact(change, default_region=client.country)
        if errors:
            raise InvalidDetails(errors)
        changes = _changes(_stored_contact(user, client), cleaned)
        if changes:
            user.name = cleaned.name
            user.phone = cleaned.phone
            client.company_name = cleaned.company_name
            client.email = cleaned.email
            client.website = cleaned.website
            client.tax_number = cleaned.tax_number
            record_event(
                session,
                DETAILS_UPDATED,
                at=clock(),
                portal_user_id=principal.portal_user_id,
                client_id=client.id,
                subject=("client", client.id),
                details={"changes": changes},
            )
        return DetailsSaved(cleaned, tuple(changes))


def update_addresses(
    db: Database,
    principal: Principal,
    billing: AddressInput,
    shipping: AddressInput,
    *,
    clock: Clock = utc_now,
) -> AddressesSaved:
    """Save the billing address and the shipping address; an empty shipping address means "as billing".

    Raises ``InvalidDetails`` with a sentence per wrong field, keyed ``billing.<field>`` and
    ``shipping.<field>`` (fields as in ``AddressInput``); nothing is written then. Street, city and
    country are required, and the postal code unless the country has none (``POSTAL_CODE_OPTIONAL``).
    """
    clean_billing, errors = _clean_address("billing", billing)
    clean_shipping = AddressInput()
    if not shipping.is_empty:
        clean_shipping, shipping_errors = _clean_address("shipping", shipping)
        errors |= shipping_errors
    if errors:
        raise InvalidDetails(errors)
    with db.transaction() as session:
        _user, client = _rows(session, principal, lock=True)
        changes = _changes(_billing(client), clean_billing, prefix="billing.")
        changes |= _changes(_shipping(client), clean_shipping, prefix="shipping.")
        if changes:
            for name in ADDRESS_FIELDS:
                setattr(client, _BILLING_COLUMNS[name], getattr(clean_billing, name))
                setattr(client, f"shipping_{name}", getattr(clean_shipping, name))
            record_event(
                session,
                ADDRESSES_UPDATED,
                at=clock(),
                portal_user_id=principal.portal_user_id,
                client_id=client.id,
                subject=("client", client.id),
                details={"changes": changes},
            )
        return AddressesSaved(clean_billing, clean_shipping, tuple(changes))


def _rows(session: Session, principal: Principal, *, lock: bool = False) -> tuple[PortalUser, Client]:
    query = (
        select(PortalUser, Client)
        .join(Client, Client.id == PortalUser.client_id)
        .where(PortalUser.id == principal.portal_user_id, Client.id == principal.client_id)
    )
    row = session.execute(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound("client", principal.client_id)
    user, client = row
    return user, client


def _stored_contact(user: PortalUser, client: Client) -> ContactChange:
    return ContactChange(
        user.name, client.company_name, client.email, user.phone, client.website, client.tax_number
    )


def _billing(client: Client) -> AddressInput:
    return AddressInput(*(getattr(client, _BILLING_COLUMNS[name]) for name in ADDRESS_FIELDS))


def _shipping(client: Client) -> AddressInput:
    return AddressInput(*(getattr(client, f"shipping_{name}") for name in ADDRESS_FIELDS))


def _changes(old: Any, new: Any, *, prefix: str = "") -> dict[str, dict[str, str]]:
    """``{field: {"old": ..., "new": ...}}`` for each field of two dataclasses that differs."""
    return {
        prefix + field.name: {"old": getattr(old, field.name), "new": getattr(new, field.name)}
        for field in fields(old)
        if getattr(old, field.name) != getattr(new, field.name)
    }


def _clean_contact(change: ContactChange, *, default_region: str) -> tuple[ContactChange, dict[str, str]]:
    errors: dict[str, str] = {}
    name = _line(change.name, "name", MAX_NAME_LENGTH, errors, missing=_("Enter your name."))
    company_name = _line(change.company_name, "company_name", MAX_NAME_LENGTH, errors)
    tax_number = _line(change.tax_number, "tax_number", MAX_TAX_NUMBER_LENGTH, errors)
    email, problem = _email(change.email)
    if problem:
        errors["email"] = problem
    phone, problem = _phone(change.phone, default_region)
    if problem:
        errors["phone"] = problem
    website, problem = _website(change.website)
    if problem:
        errors["website"] = problem
    return ContactChange(name, company_name, email, phone, website, tax_number), errors


def _clean_address(prefix: str, address: AddressInput) -> tuple[AddressInput, dict[str, str]]:
    errors: dict[str, str] = {}

    def line(name: str, limit: int, missing: str = "") -> str:
        return _line(getattr(address, name), f"{prefix}.{name}", limit, errors, missing=missing)

    line1 = line("line1", MAX_LINE_LENGTH, _("Enter the street and number."))
    line2 = line("line2", MAX_LINE_LENGTH)
    city = line("city", MAX_CITY_LENGTH, _("Enter the city."))
    region = line("region", MAX_REGION_LENGTH)
    country = address.country.strip().upper()
    if not country:
        errors[f"{prefix}.country"] = _("Choose a country.")
    elif len(country) != 2 or pycountry.countries.get(alpha_2=country) is None:
        errors[f"{prefix}.country"] = _("Choose a country from the list.")
    postal_code = " ".join(address.postal_code.upper().split())
    if not postal_code:
        if country not in POSTAL_CODE_OPTIONAL:
            errors[f"{prefix}.postal_code"] = _("Enter the postal code.")
    elif len(postal_code) > MAX_POSTAL_CODE_LENGTH or not _POSTAL_CODE.fullmatch(postal_code):
        errors[f"{prefix}.postal_code"] = _("This is not a valid postal code.")
    return AddressInput(line1, line2, city, region, postal_code, country), errors


def dial_uri(phone: str, region: str = "") -> str:
    """A ``tel:`` link to ``phone``: in E.164 (``tel:+14155550142``) when phonenumbers can read it, a
    number without its country code read as ``region``'s (ISO 3166 alpha-2); otherwise its digits as
    written, with a leading + kept. Empty when there is nothing (or not only a number) to dial."""
    text = " ".join(phone.split())[:MAX_PHONE_LENGTH]
    country = region.upper() if region.upper() in phonenumbers.SUPPORTED_REGIONS else None
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(char for char in text if char.isascii() and char.isdigit())
    if not digits or any(char.isalpha() for char in text):  # "0800 FLOWERS": part of it would dial wrong
        return ""
    return "tel:" + ("+" if text.startswith("+") else "") + digits


def website_url(website: str) -> str:
    """The address a link to ``website`` opens: https:// added when it has no scheme, as a saved website
    is stored (``_website``). Empty for anything that is not an http(s) address with a real host name,
    so that a link never runs script (``javascript:``) or opens something else."""
    url, problem = _website(website)
    return "" if problem else url


def _line(value: str, key: str, limit: int, errors: dict[str, str], *, missing: str = "") -> str:
    """A one-line text with its spaces tidied; a problem goes into ``errors`` under ``key``."""
    text = " ".join(value.split())
    if not text and missing:
        errors[key] = missing
    elif len(text) > limit:
        errors[key] = _("Use at most {count} characters.").format(
            count=format_decimal(limit, locale=formatting_locale())
        )
    elif _CONTROL.search(text):
        errors[key] = _("Remove the special (control) characters.")
    return text


def _email(value: str) -> tuple[str, str]:
    text = value.strip()
    if not text:
        return "", ""
    try:
        return validate_email(text, check_deliverability=False).normalized, ""
    except EmailNotValidError:  # its explanation is English only
        return text, _("This is not a valid e-mail address.")


def _phone(value: str, default_region: str) -> tuple[str, str]:
    text = " ".join(value.split())
    if not text:
        return "", ""
    region = default_region.upper() if default_region.upper() in phonenumbers.SUPPORTED_REGIONS else None
    invalid = _("This is not a valid phone number.")
    if len(text) > MAX_PHONE_LENGTH or _CONTROL.search(text):
        return text, invalid
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            return text, _("Enter the number with its country code, like +44 20 7946 0958.")
        return text, invalid
    if not phonenumbers.is_valid_number(number):
        return text, invalid
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL), ""


def _website(value: str) -> tuple[str, str]:
    """An http(s) address with a real host name; a bare "example.com" becomes https://example.com."""
    text = value.strip()
    if not text:
        return "", ""
    invalid = _("Enter a web address like https://example.com.")
    if len(text) > MAX_WEBSITE_LENGTH or any(c.isspace() for c in text) or _CONTROL.search(text):
        return text, invalid
    url = text if "://" in text else f"https://{text}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading the port is what checks it
        ascii_host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return text, invalid
    labels = ascii_host.split(".")
    if (
        parts.scheme.lower() not in ("http", "https")
        or parts.username is not None
        or len(labels) < 2
        or not all(_HOST_LABEL.fullmatch(label) for label in labels)
        or not (labels[-1].isalpha() or labels[-1].startswith("xn--"))
    ):
        return text, invalid
    normalised = urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment)
    )
    if len(normalised) > MAX_WEBSITE_LENGTH:
        return text, invalid
    return normalised, ""
