"""In Chromium: the demo customer turns on two-factor sign-in, then signs in with a code from the app
(made here with pyotp from the key the page shows)."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def fresh_code(totp: pyotp.TOTP, spent: str) -> str:
    """Now's code, or the next step's (one step of drift is accepted) when now's was just spent."""
    code = totp.now()
    return totp.at(time.time() + 30) if code == spent else code


def test_a_customer_turns_on_two_factor_and_signs_in_with_a_code(demo_portal, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")

    page.goto(f"{demo_portal.url}/password")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    key = page.locator(".font-mono.select-all").first  # the key, in groups of four
    key.wait_for()
    assert page.locator("img[alt^='QR code for']").count() == 1
    totp = pyotp.TOTP("".join(key.inner_text().split()))
    spent = totp.now()
    page.get_by_label("6-digit code").fill(spent)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector("text=Two-factor sign-in is on.")
    assert page.get_by_text("They will not be shown again.").is_visible()
    page.get_by_role("button", name="Done").click()
    page.get_by_text("recovery codes left").wait_for()

    page.get_by_role("button", name="Logout").click()
    page.wait_for_selector("text=You have signed out.")
    sign_in(page, demo_portal.url)
    page.wait_for_url("**/login/verify?next=%2F")
    page.wait_for_selector("text=Signing in as demo@client.example.")
    assert not any(cookie["name"] == "portal_session" for cookie in page.context.cookies())
    page.get_by_label("Code").fill(spent)  # the code of the set-up: never accepted twice
    page.get_by_role("button", name="Verify").click()
    page.wait_for_selector("text=That code is not correct, or it was used already.")

    page.get_by_label("Code").fill(fresh_code(totp, spent))
    page.get_by_role("button", name="Verify").click()

    page.wait_for_selector("text=Outstanding Invoices")
    cookie = next(c for c in page.context.cookies() if c["name"] == "portal_session")
    assert cookie["httpOnly"]
    assert not any(c["name"] == "portal_second_step" for c in page.context.cookies())
    page.close()
