"""First run and the back office: the setup page on an empty portal, staff sign-in, and the wall
between customer and staff sessions."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from nicegui.elements.mixins.value_element import ValueElement
from nicegui.testing import User
from sqlalchemy import func, select

from models import AuditEvent, Organization, StaffUser
from services import portal
from services.account_details import AddressInput
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OWNER_EMAIL, OWNER_PASSWORD
from services.passwords import hash_password
from services.setup import SetupForm, set_up_business
from tests.ui.conftest import location, post_login, query

OWNER_NEW_PASSWORD = "Lantern-Orchard-Quartz-77"
STAFF_EMAIL = "sam@business.example"
STAFF_PASSWORD = "Counter-Ledger-Pine-31"
GOOD = {
    "setup-business-name": "Harbour Bakery",
    "setup-address-line1": "12 Quay Street",
    "setup-address-city": "Galway",
    "setup-address-postal-code": "H91 X2Y3",
    "setup-address-country": "IE",
    "setup-email": "hello@harbour-bakery.example",
    "setup-currency": "EUR",
    "setup-owner-name": "Maeve Byrne",
    "setup-owner-email": "maeve@harbour-bakery.example",
    "password-new": OWNER_NEW_PASSWORD,
    "password-confirm": OWNER_NEW_PASSWORD,
}


@pytest.fixture
def empty_portal(demo_portal_env, monkeypatch):
    """A fresh data folder without the demo: the portal as a business first starts it."""
    monkeypatch.setenv("PORTAL_DEMO", "false")


def set_value(user: User, marker: str, value: object) -> None:
    for element in user.find(marker=marker).elements:
        assert isinstance(element, ValueElement)
        element.value = value


def fill(user: User, **changes: str) -> None:
    for marker, value in (GOOD | {key.replace("_", "-"): text for key, text in changes.items()}).items():
        set_value(user, marker, value)


def counts() -> tuple[int, int]:
    with portal.current().db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(Organization)) or 0,
            session.scalar(select(func.count()).select_from(StaffUser)) or 0,
        )


async def until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the change did not happen")


async def post_admin_login(
    user: User, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD, next_path: str = "/admin"
) -> httpx.Response:
    return await user.http_client.post(
        "/admin/auth/login", data={"email": email, "password": password, "next": next_path}
    )


def add_staff(role: str = "staff") -> None:
    current = portal.current()
    with current.db.transaction() as session:
        organization_id = session.scalars(select(Organization.id)).one()
        session.add(
            StaffUser(
                organization_id=organization_id,
                name="Sam Staff",
                email=STAFF_EMAIL,
                password_hash=hash_password(STAFF_PASSWORD, rounds=4),
                role=role,
                created_at=current.clock(),
            )
        )


# First run


async def test_an_empty_portal_leads_every_page_to_setup(empty_portal, user):
    for path in ("/", "/login", "/admin", "/admin/login", "/invoices"):
        response = await user.http_client.get(path)
        assert location(response) == "/setup", path
    await user.open("/")
    await user.should_see("Set up your portal")
    await user.should_see("The owner's login")
    await user.should_not_see("This portal has no business yet")


@pytest.mark.parametrize(
    ("change", "marker", "message"),
    [
        ({"setup_business_name": ""}, "setup-business-name", "Enter the business's name."),
        (
            {"password_new": "password123", "password_confirm": "password123"},
            "password-new",
            "This password is easy to guess.",
        ),
        ({"setup_owner_email": "maeve@"}, "setup-owner-email", "This is not a valid e-mail address."),
        ({"setup_currency": "EUX"}, "setup-currency", "Choose a currency from the list"),
    ],
)
async def test_a_bad_setup_field_is_marked_and_nothing_is_created(
    empty_portal, user, change, marker, message
):
    await user.open("/setup")
    fill(user, **change)
    user.find(marker="setup-submit").click()
    await user.should_see("Nothing was saved", retries=40)
    await user.should_see(message)
    (field,) = user.find(marker=marker).elements
    assert field.props["error"] is True
    assert message in field.props["error-message"]
    assert counts() == (0, 0)


async def test_the_password_checklist_ticks_off_while_typing(empty_portal, user):
    await user.open("/setup")
    await user.should_see("At least 10 characters.")
    set_value(user, "setup-owner-name", "Maeve Byrne")
    set_value(user, "password-new", "maevebyrne")
    checklist = user.find(marker="password-requirements").elements.pop()
    icons = [icon.props.get("name") for icon in checklist.descendants() if icon.tag == "q-icon"]
    assert icons[1] == "radio_button_unchecked"  # "Not your e-mail address or your name."


async def test_a_successful_setup_leads_the_owner_into_the_back_office(empty_portal, user):
    await user.open("/setup")
    fill(user)
    user.find(marker="setup-submit").click()
    await user.should_see("Your business is set up", retries=60)
    assert counts() == (1, 1)
    with portal.current().db.reading() as session:
        owner = session.scalars(select(StaffUser)).one()
        assert (owner.role, owner.email) == ("owner", "maeve@harbour-bakery.example")
        assert session.scalars(select(Organization.default_currency)).one() == "EUR"
    response = await post_admin_login(user, "maeve@harbour-bakery.example", OWNER_NEW_PASSWORD)
    assert location(response) == "/admin"
    await user.open("/admin")
    await user.should_see("Harbour Bakery")
    await user.should_see("Welcome, Maeve Byrne.")
    await user.should_see("Settings")
    assert location(await user.http_client.get("/setup")) == "/admin"  # gone for good
    user.http_client.cookies.clear()
    await user.open("/")
    await user.should_see("Sign in to see your invoices")


async def test_a_second_owner_setup_after_setup_is_refused(empty_portal, user):
    await user.open("/setup")  # a second tab, opened while the portal was still empty
    current = portal.current()
    first = SetupForm(
        business_name="Harbour Bakery",
        address=AddressInput("12 Quay Street", "", "Galway", "", "H91 X2Y3", "IE"),
        email="hello@harbour-bakery.example",
        owner_name="Maeve Byrne",
        owner_email="maeve@harbour-bakery.example",
        password=OWNER_NEW_PASSWORD,
        confirm=OWNER_NEW_PASSWORD,
    )
    set_up_business(current.db, first, rounds=4)
    fill(user, setup_business_name="Takeover Ltd", setup_owner_email="intruder@evil.example")
    user.find(marker="setup-submit").click()
    await user.should_see("This portal has been set up already, so nothing was changed.", retries=40)
    assert counts() == (1, 1)
    with current.db.reading() as session:
        assert session.scalars(select(Organization.name)).one() == "Harbour Bakery"
        assert session.scalars(select(StaffUser.email)).one() == "maeve@harbour-bakery.example"


# Staff sign-in (on the demo portal)


async def test_the_demo_owner_signs_in_to_the_back_office(user):
    response = await post_admin_login(user)
    assert location(response) == "/admin"
    cookie = response.headers["set-cookie"].lower()
    assert "staff_session=" in cookie
    assert "path=/;" in cookie  # an open page's socket and uploads carry it too (components.authority)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    await user.open("/admin")
    await user.should_see("Dashboard")
    await user.should_see("Northwind Design Studio")
    await user.should_see("Back office")
    await user.should_see("Settings")
    await user.should_see("Logout")


async def test_a_wrong_staff_password_is_refused_and_five_lock_the_account(user):
    wrong = location(await post_admin_login(user, password="Wrong-Guess-123"))
    assert query(wrong)["error"] == "invalid"
    await user.open(wrong)
    await user.should_see("The e-mail address or password is not correct.")
    for _ in range(3):
        await post_admin_login(user, password="Wrong-Guess-123")
    assert query(location(await post_admin_login(user, password="Wrong-Guess-123")))["error"] == "locked"
    right = location(await post_admin_login(user))
    assert query(right)["error"] == "locked"
    assert "staff_session" not in user.http_client.cookies
    await user.open(right)
    await user.should_see("Too many failed sign-in attempts")
    with portal.current().db.reading() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "staff_sign_in.locked")) == 1


async def test_a_customer_password_does_not_open_the_back_office(user):
    assert (
        query(location(await post_admin_login(user, CUSTOMER_EMAIL, CUSTOMER_PASSWORD)))["error"] == "invalid"
    )
    assert query(location(await post_login(user, OWNER_EMAIL, OWNER_PASSWORD)))["error"] == "invalid"


async def test_staff_logout_revokes_the_session(user):
    await post_admin_login(user)
    token = user.http_client.cookies["staff_session"]
    response = await user.http_client.post("/admin/auth/logout")
    assert query(location(response)) == {"signed_out": "1"}
    user.http_client.cookies.set("staff_session", token)
    redirect = location(await user.http_client.get("/admin"))
    assert query(redirect) == {"next": "/admin", "expired": "1"}


async def test_the_back_office_asks_for_staff_sign_in_and_returns_to_the_page(user):
    response = await user.http_client.get("/admin/settings")
    assert location(response) == "/admin/login?next=%2Fadmin%2Fsettings"
    assert location(await post_admin_login(user, next_path="/admin/settings")) == "/admin/settings"
    assert location(await post_admin_login(user, next_path="/invoices")) == "/admin"  # only /admin targets
    assert location(await post_admin_login(user, next_path="https://evil.example/admin")) == "/admin"


# The wall between the two kinds of session


async def test_a_customer_session_cannot_open_the_back_office(user):
    await post_login(user)
    token = user.http_client.cookies["portal_session"]
    assert (await user.http_client.get("/")).status_code == 200
    assert location(await user.http_client.get("/admin")).startswith("/admin/login?next=%2Fadmin")
    user.http_client.cookies.set("staff_session", token)  # even in the staff cookie
    assert location(await user.http_client.get("/admin/settings")).startswith("/admin/login")
    await user.open("/admin")
    await user.should_see("Back office: sign in as the business's owner or staff.")
    await user.should_not_see("Welcome")


async def test_a_staff_session_cannot_open_customer_pages(user):
    await post_admin_login(user)
    token = user.http_client.cookies["staff_session"]
    assert (await user.http_client.get("/admin")).status_code == 200
    assert query(location(await user.http_client.get("/"))) == {"next": "/"}
    user.http_client.cookies.set("portal_session", token)  # even in the customer cookie
    assert location(await user.http_client.get("/invoices")).startswith("/login?next=%2Finvoices")
    user.http_client.cookies.delete("portal_session")
    await user.open("/")
    await user.should_see("Sign in to see your invoices, payments and statement.")


async def test_the_rest_api_paths_are_left_to_their_own_authentication(user):
    for path in ("/api/v1/clients", "/api/docs", "/api/openapi.json"):
        response = await user.http_client.get(path)
        assert response.status_code != 303, path  # no sign-in redirect: the API answers for itself


# Roles


async def test_staff_without_the_owner_role_cannot_open_settings(user):
    add_staff()
    assert location(await post_admin_login(user, STAFF_EMAIL, STAFF_PASSWORD)) == "/admin"
    response = await user.http_client.get("/admin/settings")
    assert response.status_code == 403
    assert "Only the owner of the business can open this page." in response.text
    assert "Business profile" not in response.text
    await user.open("/admin")
    await user.should_see("Dashboard")
    await user.should_see("Sam Staff · Staff")
    await user.should_not_see("Settings")


async def test_the_owner_can_open_settings(user):
    await post_admin_login(user)
    assert (await user.http_client.get("/admin/settings")).status_code == 200
    await user.open("/admin/settings")
    await user.should_see("Business profile")
