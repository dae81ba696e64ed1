"""Settings > Business: the owner turns sign-in links off, and the customers' sign-in page follows."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select, update

from models import AuditEvent, Organization
from services import portal
from services.branding import defaults_changed


def allowed() -> bool:
    with portal.current().db.reading() as session:
        return bool(session.scalar(select(Organization.allow_sign_in_links)))


def audited() -> list[str]:
    with portal.current().db.reading() as session:
        return list(
            session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("settings.sign_in%")))
        )


def switch(user: User) -> ui.switch:
    (found,) = user.find(marker="sign-in-links-switch").elements
    assert isinstance(found, ui.switch)
    return found


async def test_the_owner_turns_sign_in_links_off_and_on(owner: User) -> None:
    await owner.open("/admin/settings")
    await owner.should_see("Customers may sign in by a link sent by e-mail")
    assert allowed()
    switch(owner).set_value(False)
    await owner.should_see("Sign-in links are off.")
    assert not allowed()
    switch(owner).set_value(True)
    await owner.should_see("Customers can now ask for a sign-in link.")
    assert allowed()
    assert audited() == ["settings.sign_in_links_off", "settings.sign_in_links_on"]


async def test_with_links_off_the_sign_in_page_does_not_offer_them(user: User) -> None:
    await user.open("/login")
    await user.should_see("E-mail me a sign-in link")
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(allow_sign_in_links=False))
    defaults_changed()  # as the Settings page does: this process remembers the branding (services.branding)
    await user.open("/login")
    await user.should_see("Forgot password?")
    await user.should_not_see("E-mail me a sign-in link")
    await user.open("/sign-in-by-email")
    await user.should_see("Signing in by e-mail link is turned off.")
