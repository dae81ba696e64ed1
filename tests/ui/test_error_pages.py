"""What a person sees when a page is not there or fails: the portal's own page, never NiceGUI's
"HTTPException: 404" or a traceback, and the API keeps its JSON."""

from __future__ import annotations

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User

from tests.ui.admin.conftest import sign_in_staff
from tests.ui.conftest import post_login


async def test_an_address_that_is_no_page_says_page_not_found_with_the_sidebar(user: User) -> None:
    await post_login(user)
    answer = await user.http_client.get("/no-such-page")
    assert answer.status_code == 404
    assert "HTTPException" not in answer.text
    for text in ("Page not found", "There is no page at this address.", "Back to Home", "Payments Made"):
        assert text in answer.text  # "Payments Made": the sidebar, as on every page


async def test_an_invoice_that_is_not_there_says_so_in_its_own_words(user: User) -> None:
    await post_login(user)
    answer = await user.http_client.get("/invoices/not-a-real-id")
    assert answer.status_code == 404
    assert "Page not found" in answer.text
    assert "This invoice does not exist." in answer.text


async def test_in_the_back_office_it_has_the_back_offices_frame(user: User) -> None:
    await sign_in_staff(user)
    answer = await user.http_client.get("/admin/no-such-page")
    assert answer.status_code == 404
    assert "Page not found" in answer.text
    assert "Back to the back office" in answer.text


async def test_the_api_keeps_its_json_answer(user: User) -> None:
    answer = await user.http_client.get("/api/v1/no-such-thing")
    assert answer.status_code in (401, 404)
    assert answer.headers["content-type"].startswith("application/")
    assert "Page not found" not in answer.text


async def test_a_page_that_fails_says_something_went_wrong(
    user: User, caplog: pytest.LogCaptureFixture
) -> None:
    @ui.page("/fails-for-the-test")
    def fails() -> None:
        raise RuntimeError("broken on purpose")

    await post_login(user)
    # As a server answers (uvicorn logs the error after the page is sent); the test client would raise it.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", cookies=user.http_client.cookies
    ) as browser:
        answer = await browser.get("/fails-for-the-test")
    assert answer.status_code == 500
    assert "broken on purpose" not in answer.text
    assert "Something went wrong" in answer.text
    assert "Nothing was changed." in answer.text
    logged = [record for record in caplog.get_records("call") if record.levelname == "ERROR"]
    assert logged  # the failure is logged in full for the operator
    assert all("fails-for-the-test" in record.getMessage() for record in logged)
    caplog.clear()  # expected: the user fixture fails a test on any ERROR log it did not expect
