"""Languages, locales and time zones as people choose them: the business's in Settings, each person's own.

The business chooses its locale (how numbers, amounts and dates are written), the language of readers
who chose none, and its time zone. A customer or staff member may choose a language and a time zone
of their own; "" means none (the browser's language, then the business's; the business's time zone).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache

from babel.core import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Client, Organization, PortalUser, StaffUser
from services.audit import record_event
from services.branding import defaults_changed
from services.clock import Clock, utc_now
from services.database import Database
from services.dates import time_zone_names
from services.errors import InvalidDetails, NotFound
from services.i18n import (
    DEFAULT_LANGUAGE,
    Reader,
    _,
    available_languages,
    current_language,
    language_name,
    using_language,
)
from services.principal import Principal
from services.staff_auth import StaffPrincipal

REGIONAL_UPDATED = "business.regional_updated"
PREFERENCES_UPDATED = "account.preferences_updated"


@dataclass(frozen=True)
class RegionalSettings:
    """The business's locale (``de_DE``), default language (``de``) and time zone (``Europe/Berlin``)."""

    locale: str
    default_language: str
    time_zone: str


@dataclass(frozen=True)
class Preferences:
    """A person's own language and time zone; "" where they follow the default."""

    language: str = ""
    time_zone: str = ""


def language_choices() -> dict[str, str]:
    """The portal's languages by code, each named in itself: ``{"de": "Deutsch", ...}``."""
    return {code: language_name(code) for code in available_languages()}


@cache
def _locale_names(language: str) -> tuple[tuple[str, str], ...]:
    names = []
    for identifier in locale_identifiers():
        locale = Locale.parse(identifier)
        if locale.territory and not locale.script and not locale.variant:
            names.append((identifier, f"{locale.get_display_name(language)} · {identifier}"))
    return tuple(sorted(names, key=lambda pair: pair[1].casefold()))


def locale_choices() -> dict[str, str]:
    """Every locale with a country that Babel knows, by code, named in the reader's language."""
    return dict(_locale_names(current_language()))


def time_zone_choices() -> dict[str, str]:
    """Every IANA time zone this machine knows, by name, its underscores read as spaces."""
    return {name: name.replace("_", " ") for name in time_zone_names()}


def get_regional_settings(db: Database, organization_id: int) -> RegionalSettings:
    """The business's locale, default language and time zone, as Settings shows them."""
    with db.reading() as session:
        row = session.execute(
            select(Organization.locale, Organization.default_language, Organization.time_zone).where(
                Organization.id == organization_id
            )
        ).one_or_none()
    if row is None:
        raise NotFound("organization", organization_id)
    return RegionalSettings(row.locale, row.default_language, row.time_zone)


def update_regional_settings(
    db: Database,
    organization_id: int,
    change: RegionalSettings,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> RegionalSettings:
    """Save the business's locale, default language and time zone; ``InvalidDetails`` names a wrong one."""
    errors: dict[str, str] = {}
    if not _is_locale(change.locale):
        errors["locale"] = _("Choose a locale from the list.")
    if change.default_language not in available_languages():
        errors["default_language"] = _("Choose a language from the list.")
    if change.time_zone not in time_zone_names():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        raise InvalidDetails(errors)
    with db.transaction() as session:
        organization = session.scalars(
            select(Organization).where(Organization.id == organization_id).with_for_update()
        ).one_or_none()
        if organization is None:
            raise NotFound("organization", organization_id)
        before = RegionalSettings(organization.locale, organization.default_language, organization.time_zone)
        organization.locale = change.locale
        organization.default_language = change.default_language
        organization.time_zone = change.time_zone
        if before != change:
            record_event(
                session,
                REGIONAL_UPDATED,
                at=clock(),
                staff_user_id=staff_user_id,
                subject=("organization", organization.id),
                details={"old": before.__dict__, "new": change.__dict__},
            )
    defaults_changed()
    return change


def get_customer_preferences(db: Database, principal: Principal) -> Preferences:
    """The signed-in customer's own language and time zone."""
    with db.reading() as session:
        row = session.execute(
            select(PortalUser.language, PortalUser.time_zone).where(PortalUser.id == principal.portal_user_id)
        ).one_or_none()
    if row is None:
        raise NotFound("portal_user", principal.portal_user_id)
    return Preferences(row.language, row.time_zone)


def set_customer_preferences(
    db: Database, principal: Principal, change: Preferences, *, clock: Clock = utc_now
) -> Preferences:
    """Save the customer's own language and time zone (for pages, e-mails and PDFs)."""
    _check(change)
    with db.transaction() as session:
        session.execute(
            update(PortalUser)
            .where(PortalUser.id == principal.portal_user_id)
            .values(language=change.language, time_zone=change.time_zone)
        )
        record_event(
            session,
            PREFERENCES_UPDATED,
            at=clock(),
            portal_user_id=principal.portal_user_id,
            client_id=principal.client_id,
            details=change.__dict__,
        )
    return change


def get_staff_preferences(db: Database, staff: StaffPrincipal) -> Preferences:
    """The staff member's own language and time zone for the back office."""
    with db.reading() as session:
        row = session.execute(
            select(StaffUser.language, StaffUser.time_zone).where(StaffUser.id == staff.staff_user_id)
        ).one_or_none()
    if row is None:
        raise NotFound("staff_user", staff.staff_user_id)
    return Preferences(row.language, row.time_zone)


def set_staff_preferences(
    db: Database, staff: StaffPrincipal, change: Preferences, *, clock: Clock = utc_now
) -> Preferences:
    """Save the staff member's own language and time zone for the back office."""
    _check(change)
    with db.transaction() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == staff.staff_user_id)
            .values(language=change.language, time_zone=change.time_zone)
        )
        record_event(
            session,
            PREFERENCES_UPDATED,
            at=clock(),
            staff_user_id=staff.staff_user_id,
            details=change.__dict__,
        )
    return change


def _check(change: Preferences) -> None:
    errors: dict[str, str] = {}
    if change.language and change.language not in available_languages():
        errors["language"] = _("Choose a language from the list.")
    if change.time_zone and change.time_zone not in time_zone_names():
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        raise InvalidDetails(errors)


def _is_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return False
    return True


def writing_for_client(session: Session, client_id: int) -> AbstractContextManager[Reader]:
    """Write an e-mail or PDF for a client's people: in their language, dates in their time zone.

    One message goes to all of a client's contacts, so the first contact's own choice (the one who
    signs in most often is usually the first) counts, then the business's default language.
    """
    row = session.execute(
        select(
            PortalUser.language, PortalUser.time_zone, Organization.default_language, Organization.time_zone
        )
        .select_from(Client)
        .join(Organization, Organization.id == Client.organization_id)
        .outerjoin(PortalUser, (PortalUser.client_id == Client.id) & PortalUser.is_active.is_(True))
        .where(Client.id == client_id)
        .order_by(PortalUser.id)
        .limit(1)
    ).one_or_none()
    if row is None:
        return using_language(DEFAULT_LANGUAGE)
    own_language, own_zone, business_language, business_zone = row
    return using_language(own_language or business_language, time_zone=own_zone or business_zone)
