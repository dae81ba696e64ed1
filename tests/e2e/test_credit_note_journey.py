"""In Chromium: open a credit note from Home and from the Statement of Accounts, read what it paid and what
remains, follow it to the invoice it was applied to, and download its PDF; on a phone it fits the screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tests.e2e.accessibility import DESKTOP, PHONE, settle, sign_in_customer
from tests.e2e.test_languages_on_a_phone import fits

pytestmark = pytest.mark.e2e
NOTE = "CN-00001"  # the demo's: $120.00 of goodwill, $50.00 of it applied to an invoice


def test_a_credit_note_opens_from_home_and_the_statement_and_downloads_as_a_pdf(demo_portal, browser):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    page.get_by_role("link", name=f"Credit note {NOTE}: $70.00 left").click()  # on Available Credits
    page.wait_for_url("**/credit-notes/*")
    note_url = page.url
    settle(page)
    assert page.get_by_role("heading", level=1).inner_text() == f"Credit Note {NOTE}"
    page.get_by_text("Credit Remaining $70.00").wait_for()  # $120.00 less the $50.00 applied

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"{NOTE}.pdf"
    reader = PdfReader(download.path())
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert f"# {NOTE}" in text
    assert "Credit Remaining $70.00" in text
    assert "Goodwill credit for the delayed photo shoot" in text
    catalogue = reader.trailer["/Root"].get_object()
    assert isinstance(catalogue, DictionaryObject)
    assert catalogue["/Lang"] == "en"
    assert reader.metadata is not None
    assert reader.metadata.title == f"Credit Note {NOTE}"

    applied = page.get_by_role("link", name="Applied to INV-")
    invoice_number = applied.inner_text().split()[2]
    applied.click()  # to the invoice the credit paid
    page.wait_for_url("**/invoices/*")
    page.get_by_role("heading", level=1, name=f"Invoice {invoice_number}").wait_for()

    today = datetime.now(UTC).date()
    page.goto(f"{demo_portal.url}/statement?period=custom&start={today - timedelta(days=365)}&end={today}")
    settle(page)
    page.get_by_role("link", name=NOTE).filter(visible=True).click()  # its row's reference
    page.wait_for_url(note_url)
    page.get_by_text("Credit Remaining $70.00").wait_for()
    context.close()


def test_the_credit_note_page_fits_a_phone(demo_portal, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    page.get_by_role("link", name=f"Credit note {NOTE}: $70.00 left").click()
    page.wait_for_url("**/credit-notes/*")
    settle(page)
    page.get_by_text("Credit Remaining $70.00").wait_for()
    fits(page)
    pdf = page.get_by_role("link", name="Download PDF")
    assert pdf.is_visible()
    response = page.request.get(f"{demo_portal.url}{pdf.get_attribute('href')}")
    assert response.headers["content-type"] == "application/pdf"
    assert f"# {NOTE}" in PdfReader(BytesIO(response.body())).pages[0].extract_text()
    context.close()
