"""Two-factor sign-in in the back office: staff sign in with a code, the owner requires it of all staff
(no /admin page before it is set up), and the business resets it for a customer or a staff member."""

from __future__ import annotations

import time

import pyotp
from nicegui.testing import User
from sqlalchemy import select

from models import AuditEvent, Client, PortalUser, StaffUser
from services import portal
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD
from services.principal import Principal
from services.staff_auth import StaffPrincipal
from services.two_factor import begin_setup, confirm_setup, two_factor_status
from tests.ui.admin.conftest import STAFF_EMAIL, STAFF_PASSWORD, add_staff_user, set_value
from tests.ui.conftest import location, post_login, query


def staff_principal(email: str) -> StaffPrincipal:
    with portal.current().db.reading() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
        return StaffPrincipal(user.id, user.organization_id, user.name, user.email, user.role, 0)


def customer_principal() -> Principal:
    with portal.current().db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        client = session.get_one(Client, user.client_id)
        return Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)


def turn_on(who: StaffPrincipal | Principal) -> pyotp.TOTP:
    """Two-factor sign-in on, with the code of the step after this one spent (so now's is fresh)."""
    db = portal.current().db
    totp = pyotp.TOTP(begin_setup(db, who).secret)
    confirm_setup(db, who, totp.at(time.time() - 30))
    return totp


async def password(user: User, email: str, secret: str) -> str:
    response = await user.http_client.post(
        "/admin/auth/login", data={"email": email, "password": secret, "next": "/admin/clients"}
    )
    return location(response)


async def test_a_staff_member_signs_in_with_a_code(user: User) -> None:
    totp = turn_on(staff_principal(OWNER_EMAIL))

    assert await password(user, OWNER_EMAIL, OWNER_PASSWORD) == "/admin/login/verify?next=%2Fadmin%2Fclients"
    assert (await user.http_client.get("/admin/clients")).status_code == 303  # no session yet
    await user.open("/admin/login/verify")
    await user.should_see("Signing in as owner@business.example.")

    verified = await user.http_client.post(
        "/admin/auth/verify", data={"code": totp.now(), "next": "/admin/clients"}
    )

    assert location(verified) == "/admin/clients"
    await user.open("/admin/clients")
    await user.should_see("Clients")


async def test_the_owners_requirement_keeps_staff_out_of_every_admin_page_until_set_up(user: User) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    owner_totp = turn_on(staff_principal(OWNER_EMAIL))
    # the owner, signed in with a code, turns the requirement on in Settings > Staff
    await password(user, OWNER_EMAIL, OWNER_PASSWORD)
    await user.http_client.post("/admin/auth/verify", data={"code": owner_totp.now(), "next": "/admin"})
    await user.open("/admin/settings/staff")
    set_value(user, "staff-require-two-factor", True)
    await user.should_see("Two-factor sign-in is now required for all staff.", retries=40)
    await user.http_client.post("/admin/auth/logout")
    user.http_client.cookies.clear()

    # the staff member's password leads to the set-up, and to no /admin page
    setup_page = await password(user, STAFF_EMAIL, STAFF_PASSWORD)
    assert setup_page == "/admin/login/two-factor?next=%2Fadmin%2Fclients"
    for path in ("/admin", "/admin/clients", "/admin/invoices", "/admin/account", "/admin/settings"):
        response = await user.http_client.get(path)
        assert response.status_code == 303, path
        assert location(response).startswith("/admin/login?"), path
    skipped = await user.http_client.post("/admin/auth/two-factor", data={"next": "/admin"})
    assert query(location(skipped))["error"] == "second_step"  # no session without the set-up
    setup_page = await password(user, STAFF_EMAIL, STAFF_PASSWORD)

    await user.open(setup_page)
    await user.should_see("requires two-factor sign-in for everyone in the back office")
    secret = "".join(user.find(marker="two-factor-secret").elements.pop().text.split())  # type: ignore[attr-defined]
    set_value(user, "two-factor-code", pyotp.TOTP(secret).now())
    user.find(marker="two-factor-confirm").click()
    await user.should_see("Two-factor sign-in is on.", retries=40)
    await user.should_see(marker="two-factor-continue")
    finished = await user.http_client.post("/admin/auth/two-factor", data={"next": "/admin/clients"})

    assert location(finished) == "/admin/clients"
    await user.open("/admin/clients")
    await user.should_see("Clients")
    assert two_factor_status(portal.current().db, staff_principal(STAFF_EMAIL)).enabled


async def test_the_owner_turns_on_two_factor_in_my_account(user: User) -> None:
    await password(user, OWNER_EMAIL, OWNER_PASSWORD)
    await user.open("/admin/account")
    await user.should_see("Two-factor sign-in")
    user.find(marker="two-factor-start").click()
    await user.should_see(marker="two-factor-qr", retries=40)
    secret = "".join(user.find(marker="two-factor-secret").elements.pop().text.split())  # type: ignore[attr-defined]
    set_value(user, "two-factor-code", pyotp.TOTP(secret).now())
    user.find(marker="two-factor-confirm").click()

    await user.should_see("Two-factor sign-in is on.", retries=40)
    assert two_factor_status(portal.current().db, staff_principal(OWNER_EMAIL)).enabled


async def test_the_business_resets_a_customers_two_factor_from_the_clients_page(user: User) -> None:
    turn_on(customer_principal())
    await password(user, OWNER_EMAIL, OWNER_PASSWORD)
    with portal.current().db.reading() as session:
        client_id = session.scalar(
            select(Client.public_id)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        )
    await user.open(f"/admin/clients/{client_id}")
    await user.should_see(marker=f"contact-two-factor-{CUSTOMER_EMAIL}")

    user.find(marker=f"contact-reset-two-factor-{CUSTOMER_EMAIL}").click()
    await user.should_see("Reset Dana Demo's two-factor sign-in?")
    user.find(marker="contact-reset-two-factor-confirm").click()

    await user.should_see("two-factor sign-in is reset", retries=40)
    assert not two_factor_status(portal.current().db, customer_principal()).enabled
    with portal.current().db.reading() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor.reset")).one()
        owner_id = session.scalar(select(StaffUser.id).where(StaffUser.email == OWNER_EMAIL))
    assert event.staff_user_id == owner_id
    assert event.portal_user_id == customer_principal().portal_user_id
    user.http_client.cookies.clear()
    assert location(await post_login(user, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)) == "/"  # the password alone


async def test_the_owner_resets_a_staff_members_two_factor(user: User) -> None:
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    turn_on(staff_principal(STAFF_EMAIL))
    await password(user, OWNER_EMAIL, OWNER_PASSWORD)
    await user.open("/admin/settings/staff")
    await user.should_see("Two-factor sign-in on")

    user.find(marker=f"staff-reset-two-factor-{STAFF_EMAIL}").click()
    await user.should_see("Reset Sam Counter's two-factor sign-in?")
    user.find(marker="staff-reset-two-factor-confirm").click()

    await user.should_see("Sam Counter's two-factor sign-in is reset.", retries=40)
    assert not two_factor_status(portal.current().db, staff_principal(STAFF_EMAIL)).enabled
    with portal.current().db.reading() as session:
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "two_factor.reset"))


async def test_requiring_it_is_refused_until_the_owner_has_it(user: User) -> None:
    await password(user, OWNER_EMAIL, OWNER_PASSWORD)
    await user.open("/admin/settings/staff")
    set_value(user, "staff-require-two-factor", True)
    await user.should_see("Turn on two-factor sign-in for your own account first", retries=40)
    with portal.current().db.reading() as session:
        from models import Organization

        assert not session.scalar(select(Organization.require_staff_two_factor))
