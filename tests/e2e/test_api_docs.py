"""/api/docs in Chromium: Swagger UI draws every operation of the API from the portal's own files, with
every request to another origin refused."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.e2e


def test_the_api_docs_render_the_operations_without_any_other_origin(demo_portal, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    portal_origin = urlsplit(demo_portal.url).netloc
    elsewhere: list[str] = []

    def only_the_portal(route) -> None:
        if urlsplit(route.request.url).netloc == portal_origin:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_portal)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{demo_portal.url}/api/docs")
    page.wait_for_selector(".opblock", timeout=20_000)

    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.strip() == "/clients" for path in paths), paths
    assert any("/invoices/{invoice_id}/send" in path for path in paths), paths
    assert page.locator(".opblock-get").count() >= 4
    assert page.locator(".opblock-post").count() >= 4
    assert "Invoicing Portal API" in page.locator(".info .title").inner_text()
    assert elsewhere == []
    assert errors == []
    page.close()
