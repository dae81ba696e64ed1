"""Settings > Staff: the owner adds staff members, changes roles, and disables accounts, which ends their
sessions at once; the business always keeps an owner."""

from __future__ import annotations

from collections.abc import Callable

from nicegui.testing import User
from sqlalchemy import select

from models import AuditEvent, StaffUser
from services import portal
from services.demo import OWNER_EMAIL
from tests.ui.admin.conftest import STAFF_EMAIL, STAFF_PASSWORD, add_staff_user, set_value, sign_in_staff

PAGE = "/admin/settings/staff"
NEW_EMAIL = "robin@business.example"
NEW_PASSWORD = "Quarry-Lantern-Violet-72"


def staff_user(email: str) -> StaffUser | None:
    with portal.current().db.reading() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).one_or_none()
        if user is not None:
            session.expunge(user)
        return user


def audit_actions() -> list[str]:
    with portal.current().db.reading() as session:
        return list(session.scalars(select(AuditEvent.action)))


async def fill_new_member(
    owner: User, *, email: str = NEW_EMAIL, password: str = NEW_PASSWORD, confirm: str | None = None
) -> None:
    owner.find(marker="staff-add").click()
    await owner.should_see("Add staff member")
    set_value(owner, "staff-new-name", "Robin Keel")
    set_value(owner, "staff-new-email", email)
    set_value(owner, "password-new", password)
    set_value(owner, "password-confirm", password if confirm is None else confirm)


async def test_the_list_shows_each_account_with_role_state_and_last_sign_in(owner: User) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)

    await owner.open(PAGE)

    await owner.should_see(OWNER_EMAIL)
    await owner.should_see(STAFF_EMAIL)
    await owner.should_see("Sam Counter")
    await owner.should_see("Never signed in")  # Sam
    await owner.should_see("Last sign-in")  # the owner, just now
    assert owner.find(marker=f"staff-role-{OWNER_EMAIL}").elements.pop().value == "owner"  # type: ignore[attr-defined]
    assert owner.find(marker=f"staff-role-{STAFF_EMAIL}").elements.pop().value == "staff"  # type: ignore[attr-defined]


async def test_an_added_staff_member_can_sign_in_with_the_initial_password(
    owner: User, create_user: Callable[[], User]
) -> None:
    await owner.open(PAGE)
    await fill_new_member(owner)

    owner.find(marker="staff-new-save").click()

    await owner.should_see("Robin Keel can now sign in at /admin as robin@business.example.", retries=40)
    assert owner.find(marker=f"staff-{NEW_EMAIL}").elements
    added = staff_user(NEW_EMAIL)
    assert added is not None
    assert (added.name, added.role, added.is_active) == ("Robin Keel", "staff", True)
    assert "staff.added" in audit_actions()
    robin = create_user()
    await sign_in_staff(robin, NEW_EMAIL, NEW_PASSWORD)
    await robin.open("/admin")
    await robin.should_see("Robin Keel · Staff")


async def test_an_email_that_already_has_a_staff_account_is_refused(owner: User) -> None:
    await owner.open(PAGE)
    await fill_new_member(owner, email="Owner@Business.example")

    owner.find(marker="staff-new-save").click()

    await owner.should_see("Nobody was added. Please correct the fields marked in red.", retries=40)
    email = owner.find(marker="staff-new-email").elements.pop()
    assert "owner@business.example already has a staff account" in email.props["error-message"]
    with portal.current().db.reading() as session:
        assert len(session.scalars(select(StaffUser)).all()) == 1


async def test_a_weak_initial_password_is_refused(owner: User) -> None:
    await owner.open(PAGE)
    await fill_new_member(owner, password="password123")

    owner.find(marker="staff-new-save").click()

    await owner.should_see("Nobody was added. Please correct the fields marked in red.", retries=40)
    password = owner.find(marker="password-new").elements.pop()
    assert "easy to guess" in password.props["error-message"]
    assert staff_user(NEW_EMAIL) is None


async def test_a_mistyped_repetition_is_refused(owner: User) -> None:
    await owner.open(PAGE)
    await fill_new_member(owner, confirm="Quarry-Lantern-Violet-73")

    owner.find(marker="staff-new-save").click()

    await owner.should_see("Nobody was added.", retries=40)
    assert owner.find(marker="password-confirm").elements.pop().props["error-message"] == (
        "The two passwords do not match."
    )
    assert staff_user(NEW_EMAIL) is None


async def test_disabling_ends_the_members_open_session_and_sign_in(
    owner: User, create_user: Callable[[], User]
) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    sam = create_user()
    await sign_in_staff(sam, STAFF_EMAIL, STAFF_PASSWORD)
    assert (await sam.http_client.get("/admin")).status_code == 200
    await owner.open(PAGE)

    owner.find(marker=f"staff-disable-{STAFF_EMAIL}").click()

    await owner.should_see("Sam Counter is disabled and was signed out everywhere.", retries=40)
    await owner.should_see("Disabled")
    refused = await sam.http_client.get("/admin")
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/admin/login")
    again = await sam.http_client.post(
        "/admin/auth/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": "/admin"}
    )
    assert again.headers["location"] != "/admin"
    assert "error=invalid" in again.headers["location"]


async def test_an_enabled_member_can_sign_in_again(owner: User, create_user: Callable[[], User]) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    with portal.current().db.transaction() as session:
        session.scalars(select(StaffUser).where(StaffUser.email == STAFF_EMAIL)).one().is_active = False
    await owner.open(PAGE)

    owner.find(marker=f"staff-enable-{STAFF_EMAIL}").click()

    await owner.should_see("Sam Counter can sign in again.", retries=40)
    await sign_in_staff(create_user(), STAFF_EMAIL, STAFF_PASSWORD)


async def test_the_owner_cannot_disable_themselves_nor_stop_being_the_last_owner(owner: User) -> None:
    await owner.open(PAGE)

    owner.find(marker=f"staff-disable-{OWNER_EMAIL}").click()
    await owner.should_see("You cannot disable your own account; another owner can.", retries=40)

    set_value(owner, f"staff-role-{OWNER_EMAIL}", "staff")
    await owner.should_see("You cannot change your own role; another owner can.", retries=40)

    me = staff_user(OWNER_EMAIL)
    assert me is not None
    assert (me.role, me.is_active) == ("owner", True)
    assert owner.find(marker=f"staff-role-{OWNER_EMAIL}").elements.pop().value == "owner"  # type: ignore[attr-defined]
    assert (await owner.http_client.get(PAGE)).status_code == 200


async def test_a_role_change_takes_effect_on_the_next_page(
    owner: User, create_user: Callable[[], User]
) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    sam = create_user()
    await sign_in_staff(sam, STAFF_EMAIL, STAFF_PASSWORD)
    assert (await sam.http_client.get(PAGE)).status_code == 403
    await owner.open(PAGE)

    set_value(owner, f"staff-role-{STAFF_EMAIL}", "owner")

    await owner.should_see("Sam Counter is now an owner.", retries=40)
    assert (await sam.http_client.get(PAGE)).status_code == 200
    assert "staff.role_changed" in audit_actions()
