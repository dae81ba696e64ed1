"""A customer turns on two-factor sign-in on the Change Password page and signs in with a code."""

from __future__ import annotations

import time

import pyotp
import segno
from nicegui.testing import User
from sqlalchemy import func, select

from models import AuditEvent, LoginSession
from services import portal
from services.demo import CUSTOMER_EMAIL
from tests.ui.admin.conftest import set_value
from tests.ui.conftest import location, post_login, query

SPENT: set[str] = set()  # codes of the set-up: a code is never accepted twice


def fresh_code(totp: pyotp.TOTP) -> str:
    """The app's code now, or the next step's (one step of drift is accepted) if now's is spent."""
    code = totp.now()
    return totp.at(time.time() + 30) if code in SPENT else code


def audit_count(action: str) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


async def turn_on_two_factor(user: User) -> tuple[pyotp.TOTP, list[str]]:
    """Through the page, as the customer does it; returns their app and their recovery codes."""
    await post_login(user)
    await user.open("/password")
    await user.should_see("Two-factor sign-in")
    user.find(marker="two-factor-start").click()
    await user.should_see(marker="two-factor-qr", retries=40)
    secret = "".join(user.find(marker="two-factor-secret").elements.pop().text.split())  # type: ignore[attr-defined]
    totp = pyotp.TOTP(secret)
    set_value(user, "two-factor-code", totp.now())
    SPENT.add(totp.now())
    user.find(marker="two-factor-confirm").click()
    await user.should_see("Two-factor sign-in is on.", retries=40)
    codes_box = user.find(marker="two-factor-recovery-codes").elements.pop()
    codes = [child.text for child in codes_box.default_slot.children]  # type: ignore[attr-defined]
    return totp, codes


async def sign_out(user: User) -> None:
    await user.http_client.post("/auth/logout")
    user.http_client.cookies.clear()


async def test_the_qr_code_shows_the_otpauth_uri_with_the_business_name_as_issuer(user: User) -> None:
    await post_login(user)
    await user.open("/password")
    user.find(marker="two-factor-start").click()
    await user.should_see(marker="two-factor-qr", retries=40)
    secret = "".join(user.find(marker="two-factor-secret").elements.pop().text.split())  # type: ignore[attr-defined]

    uri = pyotp.TOTP(secret).provisioning_uri(name=CUSTOMER_EMAIL, issuer_name="Northwind Design Studio")
    assert "issuer=Northwind%20Design%20Studio" in uri
    qr = user.find(marker="two-factor-qr").elements.pop()
    assert qr.props["src"] == segno.make(uri, error="m").svg_data_uri(scale=4, border=4)
    await user.should_see("Account: demo@client.example · Issuer: Northwind Design Studio")


async def test_a_customer_turns_it_on_and_signs_in_with_a_code(user: User) -> None:
    totp, codes = await turn_on_two_factor(user)
    assert len(codes) == 10
    assert audit_count("two_factor.enabled") == 1
    await sign_out(user)

    password = await post_login(user)

    assert location(password) == "/login/verify?next=%2F"
    assert "portal_session" not in user.http_client.cookies
    assert "portal_second_step" in user.http_client.cookies
    await user.open("/login/verify")
    await user.should_see("Signing in as demo@client.example.")
    await user.open("/")  # no session yet: the portal still asks for the sign-in
    await user.should_see("Sign in to see your invoices")

    verified = await user.http_client.post("/auth/verify", data={"code": fresh_code(totp), "next": "/"})

    assert location(verified) == "/"
    assert "portal_session" in user.http_client.cookies
    await user.open("/")
    await user.should_see("Outstanding Invoices")


async def test_a_reused_code_and_a_wrong_code_are_refused(user: User) -> None:
    totp, _ = await turn_on_two_factor(user)
    await sign_out(user)
    await post_login(user)
    spent = totp.at(time.time() - 30) if totp.now() not in SPENT else totp.now()  # the set-up's code

    reused = await user.http_client.post("/auth/verify", data={"code": spent, "next": "/"})

    assert query(location(reused)) == {"error": "code", "next": "/"}
    await user.open(location(reused))
    await user.should_see("That code is not correct, or it was used already.")
    assert "portal_session" not in user.http_client.cookies
    assert audit_count("sign_in.two_factor_failed") == 1


async def test_wrong_codes_lock_the_account_like_wrong_passwords(user: User) -> None:
    await turn_on_two_factor(user)
    await sign_out(user)
    await post_login(user)
    for guess in ("000000", "111111", "222222", "333333"):
        wrong = await user.http_client.post("/auth/verify", data={"code": guess, "next": "/"})
        assert query(location(wrong))["error"] == "code"

    fifth = await user.http_client.post("/auth/verify", data={"code": "444444", "next": "/"})

    assert query(location(fifth))["error"] == "locked"
    await user.open(location(fifth))
    await user.should_see("Too many failed sign-in attempts")
    user.http_client.cookies.clear()
    again = await post_login(user)  # the right password is refused too while locked
    assert query(location(again))["error"] == "locked"


async def test_a_recovery_code_signs_in_once(user: User) -> None:
    _, codes = await turn_on_two_factor(user)
    await sign_out(user)
    await post_login(user)

    first = await user.http_client.post("/auth/verify", data={"code": codes[0], "next": "/invoices"})

    assert location(first) == "/invoices"
    assert audit_count("two_factor.recovery_code_used") == 1
    await sign_out(user)
    await post_login(user)
    second = await user.http_client.post("/auth/verify", data={"code": codes[0], "next": "/"})
    assert query(location(second))["error"] == "code"
    with portal.current().db.reading() as session:
        assert session.scalar(select(func.count()).select_from(LoginSession)) == 2  # set-up and first only


async def test_a_second_step_from_another_browser_is_refused(user: User) -> None:
    totp, _ = await turn_on_two_factor(user)
    await sign_out(user)
    await post_login(user)
    user.http_client.cookies.clear()  # the code, typed in a browser that did not give the password

    elsewhere = await user.http_client.post("/auth/verify", data={"code": fresh_code(totp), "next": "/"})

    assert query(location(elsewhere))["error"] == "second_step"
    await user.open(location(elsewhere))
    await user.should_see("This sign-in has expired or was finished already. Please sign in again.")
