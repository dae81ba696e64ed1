"""First run: the business's profile and its owner's login, created once on an empty portal.

Until a staff account exists the portal shows only the setup page; ``set_up_business`` creates the
organization and its owner in one transaction and refuses every later attempt (a second tab, a
replayed request), so the portal can never be taken over by setting it up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import pycountry
from babel.core import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies
from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from models import Organization, StaffUser
from services.account_details import (
    MAX_NAME_LENGTH,
    AddressInput,
    _clean_address,  # shared address rules: the same fields as a customer's billing address
    _email,
    _line,
    _phone,
    _website,
)
from services.audit import record_event
from services.branding import defaults_changed
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import AlreadySetUp, InvalidDetails
from services.i18n import _, known_language
from services.money import UnknownCurrency, check_currency
from services.password_change import check_password
from services.passwords import DEFAULT_ROUNDS, hash_password
from services.staff_auth import OWNER

SET_UP_ACTION = "business.set_up"
DEFAULT_CURRENCY = "USD"
DEFAULT_LOCALE = "en_US"
# ISO 4217 codes that are not money a business invoices in: precious metals, fund and test codes.
_NOT_FOR_INVOICES = frozenset(
    {"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}
)


@dataclass(frozen=True)
class SetupForm:
    """The setup page's fields as typed."""

    business_name: str
    address: AddressInput
    email: str  # the business's, shown to customers and used as the reply-to address
    owner_name: str
    owner_email: str  # the owner's login
    password: str
    confirm: str
    phone: str = ""
    website: str = ""
    currency: str = DEFAULT_CURRENCY
    locale: str = DEFAULT_LOCALE  # how amounts and dates are written, e.g. from the browser's language


@dataclass(frozen=True)
class BusinessSetUp:
    organization_id: int
    business_name: str
    owner_name: str
    owner_email: str
    currency: str


ALREADY_SET_UP_MESSAGE = (
    "This portal has been set up already, so nothing was changed. The owner signs in at /admin/login."
)


@dataclass(frozen=True)
class _Cleaned:
    business_name: str
    address: AddressInput
    email: str
    phone: str
    website: str
    currency: str
    locale: str
    owner_name: str
    owner_email: str
    errors: dict[str, str] = field(default_factory=dict)


def needs_setup(db: Database) -> bool:
    """True while the portal has no staff account, i.e. nobody could ever sign in to the back office."""
    with db.reading() as session:
        return not session.scalar(select(exists().where(StaffUser.id.is_not(None))))


def set_up_business(
    db: Database,
    form: SetupForm,
    *,
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
    ip_address: str = "",
) -> BusinessSetUp:
    """Create the business and its owner (role "owner") in one transaction.

    Raises ``AlreadySetUp`` once a staff account exists (checked again under a lock inside the
    transaction, so of two simultaneous attempts one wins), else ``InvalidDetails`` with a sentence
    per wrong field (keys: ``SetupForm`` field names, ``address.<field>`` for the address); either
    way nothing is written.
    """
    if not needs_setup(db):
        raise AlreadySetUp()
    cleaned = _clean(form)
    if cleaned.errors:
        raise InvalidDetails(cleaned.errors)
    # bcrypt is slow on purpose; hashed before the transaction so no lock is held meanwhile
    password_hash = hash_password(form.password, rounds=rounds)
    now = clock()
    with db.transaction() as session:
        _lock_staff_accounts(session)
        if session.scalar(select(exists().where(StaffUser.id.is_not(None)))):
            raise AlreadySetUp()
        # A business row without any staff (left by hand or an old import) is completed, not duplicated.
        organization = session.scalars(select(Organization).order_by(Organization.id).limit(1)).first()
        if organization is None:
            organization = Organization(created_at=now, is_demo=False)
            session.add(organization)
        _apply(organization, cleaned)
        session.flush()
        owner = StaffUser(
            organization_id=organization.id,
            name=cleaned.owner_name,
            email=cleaned.owner_email,
            password_hash=password_hash,
            role=OWNER,
            created_at=now,
        )
        session.add(owner)
        session.flush()
        record_event(
            session,
            SET_UP_ACTION,
            at=now,
            staff_user_id=owner.id,
            subject=("organization", organization.id),
            ip_address=ip_address,
            details={"business_name": cleaned.business_name, "owner_email": cleaned.owner_email},
        )
        done = BusinessSetUp(
            organization.id, organization.name, owner.name, owner.email, organization.default_currency
        )
    defaults_changed()  # the neutral brand of before set-up is not shown again
    return done


@cache
def currencies() -> tuple[tuple[str, str], ...]:
    """``(code, name)`` of every ISO 4217 currency a business may invoice in, sorted by code."""
    pairs = (
        (str(currency.alpha_3), str(currency.name))
        for currency in pycountry.currencies
        if currency.alpha_3 not in _NOT_FOR_INVOICES
    )
    return tuple(sorted(pair for pair in pairs if _is_known(pair[0])))


def default_currency(country: str) -> str:
    """The currency used in ``country`` (ISO 3166 alpha-2) today; USD when it cannot be told."""
    if country:
        for code in get_territory_currencies(country.upper(), tender=True):
            if code in dict(currencies()):
                return str(code)
    return DEFAULT_CURRENCY


def suggested_locale(accept_language: str) -> str:
    """The first language of a browser's Accept-Language header that names a country, e.g. "de_AT"."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if not tag or tag == "*":
            continue
        try:
            locale = Locale.parse(tag, sep="-")
        except (ValueError, UnknownLocaleError):
            continue
        if locale.territory:
            return str(locale)
    return DEFAULT_LOCALE


def _clean(form: SetupForm) -> _Cleaned:
    errors: dict[str, str] = {}
    business_name = _line(
        form.business_name, "business_name", MAX_NAME_LENGTH, errors, missing=_("Enter the business's name.")
    )
    address, address_errors = _clean_address("address", form.address)
    errors |= address_errors
    email, problem = _email(form.email)
    if problem or not email:
        errors["email"] = problem or _("Enter the business's e-mail address.")
    phone, problem = _phone(form.phone, address.country)
    if problem:
        errors["phone"] = problem
    website, problem = _website(form.website)
    if problem:
        errors["website"] = problem
    currency = form.currency.strip().upper()
    if not currency:
        errors["currency"] = _("Choose a currency.")
    elif currency not in dict(currencies()):
        errors["currency"] = _("Choose a currency from the list (an ISO 4217 code such as USD or EUR).")
    owner_name = _line(form.owner_name, "owner_name", MAX_NAME_LENGTH, errors, missing=_("Enter your name."))
    owner_email, problem = _email(form.owner_email)
    if problem or not owner_email:
        errors["owner_email"] = problem or _("Enter your e-mail address; it is your login.")
    owner_email = owner_email.lower()
    check = check_password(form.password, email=owner_email, name=owner_name)
    if not check.acceptable:
        errors["password"] = " ".join(check.problems)
    elif form.password != form.confirm:
        errors["confirm"] = _("The passwords do not match.")
    locale = form.locale if _is_locale(form.locale) else DEFAULT_LOCALE
    return _Cleaned(
        business_name, address, email, phone, website, currency, locale, owner_name, owner_email, errors
    )


def _apply(organization: Organization, cleaned: _Cleaned) -> None:
    organization.name = cleaned.business_name
    organization.address_line1 = cleaned.address.line1
    organization.address_line2 = cleaned.address.line2
    organization.city = cleaned.address.city
    organization.region = cleaned.address.region
    organization.postal_code = cleaned.address.postal_code
    organization.country = cleaned.address.country
    organization.email = cleaned.email
    organization.phone = cleaned.phone
    organization.website = cleaned.website
    organization.default_currency = cleaned.currency
    organization.locale = cleaned.locale
    # The owner's browser language, when the portal has it, for customers who choose none (Settings).
    organization.default_language = known_language(Locale.parse(cleaned.locale).language)


def _lock_staff_accounts(session: Session) -> None:
    """Make simultaneous set-ups take turns, so the second sees the first one's owner and is refused.

    SQLite's write transactions already take the database's write lock when they begin (BEGIN
    IMMEDIATE); PostgreSQL needs the table locked, since there is no row yet to lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE staff_users IN SHARE ROW EXCLUSIVE MODE"))


def _is_known(code: str) -> bool:
    try:
        check_currency(code)
    except UnknownCurrency:
        return False
    return True


def _is_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return False
    return True
