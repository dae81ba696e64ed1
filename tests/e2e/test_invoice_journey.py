"""In Chromium: open an invoice from the list, download its PDF, post a comment."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e


def test_open_an_invoice_download_its_pdf_and_comment(demo_portal, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    # Headless Chromium has no printer, and its print preview of a PDF frame now and then takes the page
    # down with it on a busy machine. The test checks that the PDF is loaded in a frame whose print is
    # called: in that frame only, the PDF is stood in for by a page that records the call.
    context.add_init_script("window.print = () => { document.documentElement.dataset.printed = 'yes'; };")
    page = context.new_page()
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")

    page.locator("a[href='/invoices']").first.click()  # the sidebar entry
    page.wait_for_selector("text=INV-00012")
    page.get_by_role("link", name="INV-00012", exact=True).click()  # not its "Pay Now INV-00012"
    page.wait_for_selector("text=Invoice INV-00012")
    page.wait_for_selector("text=Website maintenance (hours)")

    page.get_by_role("button", name="More").click()
    with page.expect_download() as download_info:
        page.get_by_text("Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "INV-00012.pdf"
    text = PdfReader(download.path()).pages[0].extract_text()
    assert "INV-00012" in text
    assert "Website maintenance (hours)" in text

    page.get_by_role("button", name="More").click()
    page.route("**/invoices/*/pdf", lambda route: route.fulfill(content_type="text/html", body="<p>PDF</p>"))
    page.get_by_text("Print", exact=True).click()  # the same PDF, in a frame whose print dialog opens
    page.wait_for_selector("iframe[src$='/pdf']", state="attached")
    printed = page.locator("iframe[src$='/pdf']").get_attribute("src")
    assert printed is not None
    assert printed.endswith(f"{page.url.rsplit('/', 1)[1]}/pdf")
    frame = next(frame for frame in page.frames if frame.url.endswith("/pdf"))
    frame.wait_for_selector("html[data-printed=yes]", state="attached")

    page.get_by_label("Add a comment").fill("Could you send a copy to our accountant? <b>thanks</b>")
    page.get_by_role("button", name="Add Comment").click()
    page.wait_for_selector("text=Could you send a copy to our accountant? <b>thanks</b>")
    page.reload()
    page.wait_for_selector("text=Could you send a copy to our accountant? <b>thanks</b>")
    context.close()
