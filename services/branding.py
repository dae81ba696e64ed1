"""What the portal shows of the business on every page, before and after sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Organization
from services.database import Database


@dataclass(frozen=True)
class Branding:
    name: str
    has_logo: bool
    is_demo: bool
    locale: str


NOT_SET_UP = Branding(name="Invoicing Portal", has_logo=False, is_demo=False, locale="en_US")


def get_branding(db: Database) -> Branding:
    """The business's name and whether it has a logo; a neutral brand before the business is set up."""
    with db.reading() as session:
        row = session.execute(
            select(
                Organization.name,
                Organization.logo_mime,
                Organization.is_demo,
                Organization.locale,
            ).order_by(Organization.id)
        ).first()
    if row is None:
        return NOT_SET_UP
    return Branding(name=row.name, has_logo=bool(row.logo_mime), is_demo=row.is_demo, locale=row.locale)


def get_logo(db: Database) -> tuple[bytes, str] | None:
    """The logo's bytes and media type, if the business uploaded one."""
    with db.reading() as session:
        row = session.execute(
            select(Organization.logo, Organization.logo_mime).order_by(Organization.id)
        ).first()
    if row is None or not row.logo or not row.logo_mime:
        return None
    return row.logo, row.logo_mime
