"""In Chromium: open the Statement of Accounts from the sidebar, change its period, download and print it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from services.dates import format_day
from services.money import format_money
from tests.e2e.test_sign_in_journey import expected_balances, sign_in

pytestmark = pytest.mark.e2e


def test_open_the_statement_change_its_period_and_download_it(demo_portal, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")
    net = format_money(expected_balances(demo_portal.data_dir).net)
    today = datetime.now(UTC).date()

    page.locator("a[href='/statement']").first.click()  # the sidebar entry
    page.wait_for_url("**/statement?period=this_year")
    page.wait_for_selector("text=This Year: Jan 1")
    page.wait_for_selector("text=Balance brought forward")
    assert page.get_by_role("table").get_by_text("Closing balance").is_visible()
    assert page.locator("text=" + net).count() >= 2  # the closing figure and the closing row
    assert page.get_by_text(f"Balance on {format_day(today)}").is_visible()  # named by its day

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"statement-{today.year}-01-01-{today.isoformat()}.pdf"
    pages = [p.extract_text() for p in PdfReader(download.path()).pages]
    assert "Statement of Accounts" in pages[0]
    assert "Bluebird Cafe LLC" in pages[0]
    assert f"Balance on {format_day(today)} {net}" in pages[0]
    assert f"Closing balance {net}" in pages[-1]

    page.get_by_label("Period").click()
    page.get_by_role("option", name="Last Year").click()
    page.wait_for_url("**/statement?period=last_year")
    page.wait_for_selector(f"text=Last Year: Jan 1, {today.year - 1}")

    page.get_by_role("button", name="Print").click()  # the same PDF, in a frame whose print dialog opens
    page.wait_for_selector("iframe[src*='/statement/pdf']", state="attached")
    printed = page.locator("iframe[src*='/statement/pdf']").get_attribute("src")
    assert printed == "/statement/pdf?period=last_year"
    context.close()
