"""In Chromium: a customer signs out in one tab, and the portal open in another tab of the same browser
leaves for the sign-in page by itself (components.authority)."""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def test_signing_out_in_one_tab_sends_the_other_tab_to_the_sign_in_page(demo_portal, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        first = context.new_page()
        sign_in(first, demo_portal.url)
        first.wait_for_selector("text=Outstanding Invoices")
        second = context.new_page()  # the same browser: the same session cookie
        second.goto(f"{demo_portal.url}/invoices")
        second.wait_for_selector("text=INV-")

        first.get_by_role("button", name="Logout").click()
        first.wait_for_url("**/login?signed_out=1")
        signed_out = time.monotonic()

        second.wait_for_url("**/login?next=%2Finvoices&expired=1", timeout=10_000)
        assert time.monotonic() - signed_out < 5  # about a second, on a busy machine a little more
        second.wait_for_selector("text=Sign in")
    finally:
        context.close()
