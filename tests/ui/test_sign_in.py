"""Sign-in, wrong passwords, lock-out and sign-out, as a customer meets them in the portal."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import AuditEvent, LoginSession
from services import portal
from services.auth import token_hash
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from tests.ui.conftest import location, post_login, query

WRONG_MESSAGE = "The e-mail address or password is not correct."


def audit_count(action: str) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


async def test_a_page_without_a_session_goes_to_the_login_page(user):
    await user.open("/")
    await user.should_see("Sign in to see your invoices, payments and statement.")
    await user.should_not_see("Outstanding Invoices")
    response = await user.http_client.get("/")
    assert response.status_code == 303
    assert query(response.headers["location"]) == {"next": "/"}


async def test_signing_in_opens_home_with_the_business_name(user):
    response = await post_login(user)
    assert location(response) == "/"
    await user.open("/")
    await user.should_see("Outstanding Invoices")
    await user.should_see("Northwind Design Studio")
    await user.should_see("Dana Demo")
    assert audit_count("sign_in.succeeded") == 1


def issued_token(response) -> str:
    match = re.search(r"portal_session=([^;]+)", response.headers["set-cookie"])
    assert match is not None
    return match.group(1)


async def test_the_session_cookie_is_fresh_http_only_and_same_site(user):
    user.http_client.cookies.set("portal_session", "planted-by-someone-else")
    first = await post_login(user)
    cookie = first.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http in tests; an https base URL adds it
    token = issued_token(first)
    assert token != "planted-by-someone-else"
    user.http_client.cookies.clear()
    second = await post_login(user)
    assert issued_token(second) != token
    with portal.current().db.reading() as session:
        stored = session.scalars(select(LoginSession.token_hash)).all()
    assert token_hash(token) in stored
    assert token not in stored  # only the hash is kept


async def test_a_wrong_password_and_an_unknown_email_get_the_same_message(user):
    wrong = location(await post_login(user, password="Not-The-Password-1"))
    unknown = location(await post_login(user, email="nobody@client.example", password="Not-The-Password-1"))
    assert query(wrong)["error"] == query(unknown)["error"] == "invalid"
    await user.open(wrong)
    await user.should_see(WRONG_MESSAGE)
    await user.should_not_see("Outstanding Invoices")
    await user.open(unknown)
    await user.should_see(WRONG_MESSAGE)
    assert audit_count("sign_in.failed") == 2


async def test_five_failures_lock_the_account_even_against_the_right_password(user):
    for _ in range(4):
        assert query(location(await post_login(user, password="Wrong-Guess-123")))["error"] == "invalid"
    fifth = location(await post_login(user, password="Wrong-Guess-123"))
    assert query(fifth)["error"] == "locked"
    right = location(await post_login(user, password=CUSTOMER_PASSWORD))
    assert query(right)["error"] == "locked"
    assert "portal_session" not in user.http_client.cookies
    await user.open(right)
    await user.should_see("Too many failed sign-in attempts")
    await user.should_see("try again in 15 minutes")
    assert audit_count("sign_in.locked") == 1
    assert audit_count("sign_in.refused_locked") == 1


async def test_logout_revokes_the_session(user):
    await post_login(user)
    token = user.http_client.cookies["portal_session"]
    response = await user.http_client.post("/auth/logout")
    assert query(location(response)) == {"signed_out": "1"}
    await user.open(location(response))
    await user.should_see("You have signed out.")
    user.http_client.cookies.set("portal_session", token)  # replaying the old cookie does not work
    await user.open("/")
    await user.should_see("Sign in to see your invoices")
    await user.should_see("Your session has ended. Please sign in again.")
    assert audit_count("sign_out") == 1


async def test_the_page_asked_for_is_shown_after_sign_in(user):
    response = await user.http_client.get("/?tab=figures")
    asked = query(response.headers["location"])["next"]
    assert asked == "/?tab=figures"
    assert location(await post_login(user, next_path=asked)) == "/?tab=figures"


async def test_only_local_paths_are_accepted_as_the_target(user):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        user.http_client.cookies.clear()
        assert location(await post_login(user, next_path=target)) == "/"


async def test_a_cross_site_form_post_is_refused(user):
    response = await user.http_client.post(
        "/auth/login",
        data={"email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD, "next": "/"},
        headers={"origin": "https://evil.example"},
    )
    assert query(location(response))["error"] == "origin"
    assert "portal_session" not in user.http_client.cookies


@pytest.fixture
def empty_portal(demo_portal_env, monkeypatch):
    monkeypatch.setenv("PORTAL_DEMO", "false")


async def test_a_portal_without_a_business_leads_from_the_login_page_to_setup(empty_portal, user):
    assert location(await user.http_client.get("/login")) == "/setup"
    await user.open("/login")
    await user.should_see("Set up your portal")
    await user.should_not_see("Demo portal")
