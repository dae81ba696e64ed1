"""A passphrase longer than bcrypt's 72 bytes: the requirements say so while typing, and Save comes back
with the message instead of spinning (zxcvbn used to raise on it)."""

from __future__ import annotations

from nicegui import ui

from services.demo import CUSTOMER_PASSWORD
from services.password_change import REQUIREMENTS, TOO_LONG
from tests.ui.conftest import post_login
from tests.ui.test_account import customer, set_value

PASSPHRASE_87 = "plum tractor lagoon copper orchard quartz lantern harbour violet meadow ember falcon 7!"


async def test_change_password_with_an_87_character_passphrase_comes_back_with_the_message(user):
    assert len(PASSPHRASE_87) == 87
    await post_login(user)
    await user.open("/password")
    hash_before = customer()[0].password_hash
    set_value(user, "password-old", CUSTOMER_PASSWORD)
    set_value(user, "password-new", PASSPHRASE_87)
    set_value(user, "password-confirm", PASSPHRASE_87)
    await user.should_see(REQUIREMENTS[-1])

    user.find(marker="password-save").click()

    await user.should_see(TOO_LONG, retries=40)
    [button] = user.find(marker="password-save").elements
    assert isinstance(button, ui.button)
    assert "loading" not in button.props
    assert customer()[0].password_hash == hash_before
