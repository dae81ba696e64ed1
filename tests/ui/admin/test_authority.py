"""A back-office page acts only while its staff session stands (and Settings while its person is the
owner), leaves for /admin/login once it does not, and its upload route answers only its own live
session (components.authority). Events go the browser's way, through the page's socket."""

from __future__ import annotations

import asyncio

import httpx
from nicegui import app, ui
from nicegui.testing import User
from sqlalchemy import func, select

from models import ApiKey, Organization, StaffUser
from services import portal
from services.comments import list_comments
from services.demo import OWNER_EMAIL
from services.staff_accounts import change_staff_role, set_staff_active
from services.staff_auth import sign_out_staff
from tests.ui.admin.conftest import STAFF_EMAIL, STAFF_PASSWORD, add_staff_user, set_value, until
from tests.ui.admin.test_conversations import comment, demo_customer
from tests.ui.admin.test_settings_business import logo_row, png
from tests.ui.browser_events import checked, left_for, marked, send_event

SECOND_OWNER = "morgan@business.example"


def staff_row(email: str) -> StaffUser:
    with portal.current().db.reading() as session:
        row = session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
        session.expunge(row)
        return row


def organization_id() -> int:
    with portal.current().db.reading() as session:
        return session.scalars(select(Organization.id).order_by(Organization.id)).one()


def keys_named(name: str) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).where(ApiKey.name == name)) or 0


def button(user: User, text: str) -> ui.button:
    [found] = user.find(kind=ui.button, content=text).elements
    assert isinstance(found, ui.button)
    return found


async def test_a_disabled_staff_members_open_inbox_keeps_no_reply(staff: User) -> None:
    customer, invoice, _ = demo_customer()
    comment(customer, invoice, "Which account do we pay into?")
    await staff.open("/admin/conversations")
    await checked(staff)
    staff.find(marker=f"open-{invoice}").click()
    await staff.should_see(marker=f"reply-{invoice}")
    set_value(staff, f"reply-{invoice}", "The one on the invoice.")
    current = portal.current()
    owner = staff_row(OWNER_EMAIL)

    set_staff_active(
        current.db,
        owner.organization_id,
        staff_row(STAFF_EMAIL).public_id,
        False,
        changed_by=owner.id,
        events=current.events,
    )
    send_event(staff, button(staff, "Reply"))

    assert await left_for(staff, "/admin/login") == {"next": "/admin/conversations", "expired": "1"}
    assert len(list_comments(current.db, customer, invoice)) == 1


async def test_an_owner_made_staff_creates_no_api_key_in_the_open_settings(owner: User) -> None:
    add_staff_user(SECOND_OWNER, STAFF_PASSWORD, role="owner", name="Morgan Second")
    await owner.open("/admin/settings/api-keys")
    await checked(owner)
    set_value(owner, "api-key-name", "Books sync")
    current = portal.current()

    change_staff_role(
        current.db,
        organization_id(),
        staff_row(OWNER_EMAIL).public_id,
        "staff",
        changed_by=staff_row(SECOND_OWNER).id,
        events=current.events,
    )
    send_event(owner, marked(owner, "api-key-create"))

    assert await left_for(owner, "/admin/login") == {"next": "/admin/settings/api-keys", "expired": "1"}
    assert keys_named("Books sync") == 0


async def test_an_owner_made_staff_keeps_the_pages_staff_may_use(owner: User) -> None:
    add_staff_user(SECOND_OWNER, STAFF_PASSWORD, role="owner", name="Morgan Second")
    await owner.open("/admin/clients")
    await checked(owner)
    current = portal.current()

    change_staff_role(
        current.db,
        organization_id(),
        staff_row(OWNER_EMAIL).public_id,
        "staff",
        changed_by=staff_row(SECOND_OWNER).id,
        events=current.events,
    )
    await asyncio.sleep(2)  # two looks of the page at its session

    assert owner.back_history[-1] == "/admin/clients"


async def test_signing_out_of_the_back_office_elsewhere_sends_the_open_page_away(owner: User) -> None:
    await owner.open("/admin/invoices")
    await checked(owner)
    current = portal.current()

    sign_out_staff(current.db, owner.http_client.cookies["staff_session"], events=current.events)

    assert await left_for(owner, "/admin/login", seconds=5) == {"next": "/admin/invoices", "expired": "1"}


# The page's upload route (/_nicegui/client/<id>/upload/<element>): the logo in Settings > Business


def logo_upload_url(user: User) -> str:
    [upload] = user.find(kind=ui.upload).elements
    return str(upload.props["url"])


def browser() -> httpx.AsyncClient:
    """Another browser, with cookies of its own."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


async def post_logo(client: httpx.AsyncClient, url: str) -> httpx.Response:
    return await client.post(url, files={"file": ("logo.png", png(120, 40), "image/png")})


async def test_the_logo_upload_answers_only_the_browser_of_the_pages_session(owner: User) -> None:
    await owner.open("/admin/settings")
    url = logo_upload_url(owner)
    async with browser() as stranger, browser() as colleague:
        add_staff_user(SECOND_OWNER, STAFF_PASSWORD, role="owner", name="Morgan Second")
        response = await colleague.post(
            "/admin/auth/login", data={"email": SECOND_OWNER, "password": STAFF_PASSWORD, "next": "/admin"}
        )
        assert response.status_code == 303

        assert (await post_logo(stranger, url)).status_code == 403  # no cookie
        assert (await post_logo(colleague, url)).status_code == 403  # another session's, an owner's too
        await asyncio.sleep(0.5)
        assert logo_row() == (None, "")

    assert (await post_logo(owner.http_client, url)).status_code == 200
    await until(lambda: logo_row()[1] == "image/png")


async def test_the_refusal_is_in_the_language_of_whoever_asked(owner: User) -> None:
    await owner.open("/admin/settings")
    url = logo_upload_url(owner)
    async with browser() as stranger:
        stranger.headers["Accept-Language"] = "de-DE,de;q=0.9"
        refused = await post_logo(stranger, url)

    assert refused.status_code == 403
    assert refused.text == (
        "Die Sitzung dieser Seite ist beendet oder gehört nicht Ihnen. Melden Sie sich erneut an."
    )


async def test_the_logo_upload_of_a_page_whose_session_ended_is_refused(owner: User) -> None:
    await owner.open("/admin/settings")
    url = logo_upload_url(owner)
    token = owner.http_client.cookies["staff_session"]
    current = portal.current()

    sign_out_staff(
        current.db, token, events=current.events
    )  # Logout in another tab; this one kept the cookie

    assert (await post_logo(owner.http_client, url)).status_code == 403
    assert (await left_for(owner, "/admin/login"))["next"] == "/admin/settings"
    assert logo_row() == (None, "")
