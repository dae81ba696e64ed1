"""Settings > Business: the business's locale, default language and time zone; My account: the staff's own."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from models import Organization, StaffUser
from services import portal
from services.demo import OWNER_EMAIL
from tests.ui.admin.conftest import set_value
from tests.ui.conftest import open_home, post_login


def regional() -> tuple[str, str, str]:
    with portal.current().db.reading() as session:
        row = session.execute(
            select(Organization.locale, Organization.default_language, Organization.time_zone)
        ).one()
        return row.locale, row.default_language, row.time_zone


async def test_the_owner_chooses_locale_language_and_time_zone_and_customers_follow(owner: User) -> None:
    await owner.open("/admin/settings")
    await owner.should_see("Language and region")
    set_value(owner, "regional-locale", "de_DE")
    set_value(owner, "regional-language", "de")
    set_value(owner, "regional-time-zone", "Europe/Berlin")
    owner.find(marker="regional-save").click()
    await owner.should_see("The language and region are saved.")
    assert regional() == ("de_DE", "de", "Europe/Berlin")

    # A customer whose browser asks for English still reads English, with amounts written as in English.
    owner.http_client.headers["accept-language"] = "en"
    await post_login(owner)
    await open_home(owner)
    await owner.should_see("Outstanding Invoices")


async def test_an_unknown_time_zone_is_refused_beside_its_field(owner: User) -> None:
    before = regional()
    await owner.open("/admin/settings")
    set_value(owner, "regional-time-zone", "Mars/Olympus")
    owner.find(marker="regional-save").click()
    await owner.should_see("Choose a time zone from the list.")
    assert regional() == before


async def test_a_staff_member_chooses_their_own_language(owner: User) -> None:
    await owner.open("/admin/account")
    await owner.should_see("Language and time zone")
    set_value(owner, "preferences-language", "fr")
    set_value(owner, "preferences-time-zone", "Europe/Paris")
    owner.find(marker="preferences-save").click()
    # Saved, the page comes back in the chosen language (its "Saved." may be gone by then).
    await owner.should_see("Langue et fuseau horaire", retries=40)
    with portal.current().db.reading() as session:
        row = session.execute(
            select(StaffUser.language, StaffUser.time_zone).where(StaffUser.email == OWNER_EMAIL)
        ).one()
    assert (row.language, row.time_zone) == ("fr", "Europe/Paris")
