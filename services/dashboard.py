"""The customer's Home page: balances, account details and the business's contact details."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import pycountry
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Organization, PortalUser
from services.balances import ClientBalances, client_balances
from services.database import Database
from services.errors import NotFound
from services.i18n import DEFAULT_LANGUAGE, current_language, formatting_locale, using_language
from services.money import babel_locale
from services.principal import Principal


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str

    def lines(self) -> list[str]:
        """The address as printed on an envelope, without empty lines."""
        if self.region:  # "San Francisco, CA 94105"
            place = ", ".join(p for p in (self.city, f"{self.region} {self.postal_code}".strip()) if p)
        else:  # "10119 Berlin"
            place = " ".join(p for p in (self.postal_code, self.city) if p)
        return [line for line in (self.line1, self.line2, place, country_name(self.country)) if line]


@dataclass(frozen=True)
class AccountDetails:
    contact_name: str
    contact_email: str
    contact_phone: str
    client_name: str
    company_name: str
    email: str
    phone: str
    currency: str
    billing_address: Address
    website: str = ""
    tax_number: str = ""
    shipping_address: Address | None = None  # None: the same as the billing address


@dataclass(frozen=True)
class BusinessContact:
    name: str
    email: str
    phone: str
    website: str
    address: Address
    locale: str
    is_demo: bool


@dataclass(frozen=True)
class Dashboard:
    account: AccountDetails
    business: BusinessContact
    balances: ClientBalances


def country_name(code: str) -> str:
    """The country's common name for an ISO 3166 alpha-2 code, in the reader's language; the code
    itself if unknown."""
    if not code:
        return ""
    language = current_language()
    if language != DEFAULT_LANGUAGE:  # Babel names the countries in each language ("Vereinigte Staaten")
        named = babel_locale(language).territories.get(code.upper())
        if named:
            return str(named)
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def country_names() -> dict[str, str]:
    """Every country's name by its ISO 3166 alpha-2 code, in the reader's language, sorted by that name
    (accents aside: "Österreich" among the O's), for a country select."""
    return _country_names(current_language())


@cache
def _country_names(language: str) -> dict[str, str]:
    with using_language(language):
        pairs = [
            (str(country.alpha_2), country_name(str(country.alpha_2))) for country in pycountry.countries
        ]
    return dict(sorted(pairs, key=lambda pair: _sorting_key(pair[1])))


def _sorting_key(name: str) -> str:
    unaccented = "".join(
        char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)
    )
    return unaccented.casefold()


def _address(row: Client | Organization) -> Address:
    return Address(row.address_line1, row.address_line2, row.city, row.region, row.postal_code, row.country)


def _shipping(client: Client) -> Address | None:
    address = Address(
        client.shipping_line1,
        client.shipping_line2,
        client.shipping_city,
        client.shipping_region,
        client.shipping_postal_code,
        client.shipping_country,
    )
    return address if address.lines() else None


def get_dashboard(db: Database, principal: Principal) -> Dashboard:
    """Everything on Home, in two queries whatever the size of the client's history."""
    with db.reading() as session:
        return dashboard_in(session, principal)


def dashboard_in(session: Session, principal: Principal) -> Dashboard:
    """``get_dashboard`` inside a transaction of the caller's."""
    row = session.execute(
        select(PortalUser, Client, Organization)
        .join(Client, Client.id == PortalUser.client_id)
        .join(Organization, Organization.id == Client.organization_id)
        .where(PortalUser.id == principal.portal_user_id, Client.id == principal.client_id)
    ).one_or_none()
    if row is None:
        raise NotFound("client", principal.client_id)
    user, client, organization = row
    balances = client_balances(session, client.id, client.currency)
    return Dashboard(
        account=AccountDetails(
            contact_name=user.name,
            contact_email=user.email,
            contact_phone=user.phone,
            client_name=client.display_name,
            company_name=client.company_name,
            email=client.email,
            phone=client.phone,
            currency=client.currency,
            billing_address=_address(client),
            website=client.website,
            tax_number=client.tax_number,
            shipping_address=_shipping(client),
        ),
        business=BusinessContact(
            name=organization.name,
            email=organization.email,
            phone=organization.phone,
            website=organization.website,
            address=_address(organization),
            locale=formatting_locale(organization.locale),
            is_demo=organization.is_demo,
        ),
        balances=balances,
    )
