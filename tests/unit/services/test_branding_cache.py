"""Every page's frame shows the business's name and logo: a process remembers them for a few seconds,
and reads them again at once after it saved a change itself (``services.branding``)."""

from __future__ import annotations

from io import BytesIO

from PIL import Image
from sqlalchemy import update

from models import Organization
from services import branding
from services.account_details import AddressInput
from services.branding import read_branding, remembered_branding
from services.business_profile import ProfileChange, remove_logo, set_logo, update_profile
from services.database import Database
from services.i18n import Reader, reset_reader, set_reader
from tests.factories import make_organization


def logo() -> bytes:
    out = BytesIO()
    Image.new("RGB", (120, 40), "navy").save(out, "PNG")
    return out.getvalue()


def renamed(db: Database, organization_id: int, name: str) -> None:
    address = AddressInput("1 Main Street", "", "Springfield", "", "12345", "US")
    update_profile(db, organization_id, ProfileChange(name=name, address=address, email="hello@acme.example"))


def test_branding_is_remembered_once_read_and_read_again_after_a_change_saved_here(db: Database) -> None:
    organization_id = make_organization(db, name="Acme Studio")
    assert remembered_branding(db) is None  # nothing read yet
    assert read_branding(db).name == "Acme Studio"
    assert remembered_branding(db) == read_branding(db)

    renamed(db, organization_id, "Acme & Daughters")
    assert remembered_branding(db) is None
    assert read_branding(db).name == "Acme & Daughters"

    set_logo(db, organization_id, logo())
    assert remembered_branding(db) is None
    assert read_branding(db).has_logo
    remove_logo(db, organization_id)
    assert remembered_branding(db) is None
    assert not read_branding(db).has_logo


def test_a_change_another_instance_saved_shows_once_the_remembered_branding_is_too_old(
    db: Database, monkeypatch
) -> None:
    make_organization(db, name="Acme Studio")
    read_branding(db)
    with db.transaction() as session:  # as another instance would: nothing in this process hears of it
        session.execute(update(Organization).values(name="Elsewhere Ltd"))
    assert remembered_branding(db).name == "Acme Studio"  # type: ignore[union-attr]
    later = branding.time.monotonic() + branding.BRANDING_SECONDS + 0.1
    monkeypatch.setattr(branding.time, "monotonic", lambda: later)
    assert remembered_branding(db) is None
    assert read_branding(db).name == "Elsewhere Ltd"


def test_each_reader_gets_the_remembered_branding_in_their_own_way_of_writing(db: Database) -> None:
    make_organization(db)
    with db.transaction() as session:
        session.execute(update(Organization).values(locale="de_DE"))
    read_branding(db)
    seen = {}
    for language in ("de", "fr"):
        token = set_reader(Reader(language, "UTC", "de_DE", own_language=True))
        try:
            seen[language] = remembered_branding(db).locale  # type: ignore[union-attr]
        finally:
            reset_reader(token)
    assert seen["de"] == "de_DE"  # the business's own, for a reader of its language
    assert seen["fr"].startswith("fr")  # French dates and numbers for a French reader
