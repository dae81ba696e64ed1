"""A click on an open page while the database is unavailable: a notice that nothing changed, no traceback.

The outage is real: another connection holds SQLite's write lock (``tests.faults.sqlite_lock``), as a
second program or a stuck writer would; the portal's writes wait their (shortened) busy time-out and fail.
"""

from __future__ import annotations

import logging

import pytest

from components.unavailable import NOTICE
from models import Message
from tests.faults import sqlite_lock
from tests.ui.conftest import open_home, post_login
from tests.ui.test_account import count, set_value
from tests.ui.test_pay import fill_card, outstanding


@pytest.fixture
def short_busy_timeout(monkeypatch):
    """Writes give up on a held lock after 0.2 s instead of 10 (listed before ``user``: app.py reads it)."""
    monkeypatch.setenv("PORTAL_SQLITE_BUSY_TIMEOUT", "0.2")


async def test_send_email_while_the_database_is_locked_says_nothing_changed_and_works_after(
    short_busy_timeout, user, demo_portal_env, caplog
):
    caplog.set_level(logging.WARNING)
    await post_login(user)
    await open_home(user)
    user.find("Send Email").click()
    set_value(user, "email-subject", "Invoice question")
    set_value(user, "email-message", "Could you split INV-00012 into two payments?")

    with sqlite_lock(demo_portal_env / "portal.db"):
        user.find(marker="email-send").click()
        await user.should_see(NOTICE, retries=40)
    assert count(Message) == 0

    user.find(marker="email-send").click()
    await user.should_see("Your message is sent.", retries=40)
    assert count(Message) == 1
    outage_lines = [r.getMessage() for r in caplog.records if "database unavailable" in r.getMessage()]
    assert outage_lines == [
        "Pages and API: database unavailable: database is locked; answering 503 until it is back"
    ]
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


async def test_pay_while_the_database_is_locked_says_nothing_was_charged_and_works_after(
    short_busy_timeout, user, demo_portal_env, caplog
):
    await post_login(user)
    owed = outstanding()
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4242")
    with sqlite_lock(demo_portal_env / "portal.db"):
        user.find(marker="pay-submit").click()
        await user.should_see("The payment could not be started, so nothing was charged.", retries=40)
    caplog.clear()  # the failed start is logged for the operator, as it should be
    assert outstanding() == owed
    user.find(marker="pay-submit").click()  # the same form, once the database is back
    await user.should_see("Thank you! Payment received", retries=40)
    assert outstanding().minor == 0
