"""What the portal shows of the business on every page, before and after sign-in."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from weakref import WeakKeyDictionary

from sqlalchemy import select

from models import Organization
from services.database import Database
from services.i18n import DEFAULT_LANGUAGE, formatting_locale
from services.money import DEFAULT_LOCALE


@dataclass(frozen=True)
class Branding:
    name: str
    has_logo: bool
    is_demo: bool
    locale: str
    allows_sign_in_links: bool = False  # the sign-in page offers "E-mail me a sign-in link"


NOT_SET_UP = Branding(name="Invoicing Portal", has_logo=False, is_demo=False, locale="en_US")


def get_branding(db: Database) -> Branding:
    """The business's name and whether it has a logo; a neutral brand before the business is set up."""
    return _for_reader(_stored_branding(db))


def _stored_branding(db: Database) -> Branding:
    """``get_branding`` with the locale as the business saved it."""
    with db.reading() as session:
        row = session.execute(
            select(
                Organization.name,
                Organization.logo_mime,
                Organization.is_demo,
                Organization.locale,
                Organization.allow_sign_in_links,
            ).order_by(Organization.id)
        ).first()
    if row is None:
        return NOT_SET_UP
    return Branding(
        name=row.name,
        has_logo=bool(row.logo_mime),
        is_demo=row.is_demo,
        locale=row.locale,
        allows_sign_in_links=row.allow_sign_in_links,
    )


def _for_reader(stored: Branding) -> Branding:
    """The page's way of writing numbers and dates: the business's locale, or its reader's language."""
    if stored is NOT_SET_UP:
        return stored
    return replace(stored, locale=formatting_locale(stored.locale))


@dataclass(frozen=True)
class LanguageDefaults:
    """What the business chose for readers who chose nothing themselves (Settings > Business)."""

    language: str = DEFAULT_LANGUAGE
    locale: str = DEFAULT_LOCALE
    time_zone: str = "UTC"


_defaults_version = 0  # moves when Settings changes them, so this process's caches read them again
# How long a process believes the business's name, logo and locale once read: every page's frame shows
# them, and reading them cost each page a trip to a database thread. Saved in this process, a change
# shows at once (``defaults_changed``); saved by another instance, within this.
BRANDING_SECONDS = 5.0
_remembered: WeakKeyDictionary[Database, tuple[int, float, Branding]] = WeakKeyDictionary()


def language_defaults(db: Database) -> LanguageDefaults:
    """The business's default language, locale and time zone; English, en_US and UTC before set-up."""
    with db.reading() as session:
        row = session.execute(
            select(Organization.default_language, Organization.locale, Organization.time_zone).order_by(
                Organization.id
            )
        ).first()
    if row is None:
        return LanguageDefaults()
    return LanguageDefaults(language=row.default_language, locale=row.locale, time_zone=row.time_zone)


def remembered_branding(db: Database) -> Branding | None:
    """``get_branding`` as last read by ``read_branding`` for ``db``, unless that was too long ago or
    the business has changed since (in this process); None: read it."""
    found = _remembered.get(db)
    if found is None:
        return None
    version, read_at, stored = found
    if version != _defaults_version or time.monotonic() - read_at > BRANDING_SECONDS:
        return None
    return _for_reader(stored)


def read_branding(db: Database) -> Branding:
    """``get_branding``, remembered for ``remembered_branding``."""
    version = _defaults_version  # taken first: a change saved during the read is not remembered as current
    stored = _stored_branding(db)
    _remembered[db] = (version, time.monotonic(), stored)
    return _for_reader(stored)


def defaults_version() -> int:
    """A number that changes whenever this process saved new language defaults or branding."""
    return _defaults_version


def defaults_changed() -> None:
    """Called by whatever saves the defaults or the branding (name, logo, locale, sign-in links), once
    committed: this process's readers see the change at once."""
    global _defaults_version
    _defaults_version += 1


def get_logo(db: Database) -> tuple[bytes, str] | None:
    """The logo's bytes and media type, if the business uploaded one."""
    with db.reading() as session:
        row = session.execute(
            select(Organization.logo, Organization.logo_mime).order_by(Organization.id)
        ).first()
    if row is None or not row.logo or not row.logo_mime:
        return None
    return row.logo, row.logo_mime
