"""Client details and other actions in the portal: each form, each bad input with its message, nothing
changed by a refusal."""

from __future__ import annotations

import asyncio
import statistics
import time

from sqlalchemy import func, select

from models import Client, Message, OutboxEmail, PortalUser, Review
from services import portal
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from services.events import BUSINESS_INBOX_TOPIC
from tests.factories import make_portal_user
from tests.ui.conftest import open_home, post_login

NEW_PASSWORD = "Quiet-Harbor-Lantern-42"


def set_value(user, marker: str, value: object) -> None:
    for element in user.find(marker=marker).elements:
        element.value = value


def customer() -> tuple[PortalUser, Client]:
    with portal.current().db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        return user, session.get_one(Client, user.client_id)


def count(model) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the change did not happen")


async def test_the_details_pencil_saves_valid_details_and_refuses_a_bad_phone(user):
    await post_login(user)
    await open_home(user)
    user.find(marker="edit-account-details").click()
    await user.should_see("Update Account Details")
    set_value(user, "account-phone", "12")
    set_value(user, "account-website", "bluebird.example")
    user.find(marker="account-save").click()
    await user.should_see("Please correct the fields marked in red.", retries=40)
    (phone,) = user.find(marker="account-phone").elements
    assert phone.props["error"] is True
    assert "phone" in phone.props["error-message"].lower()
    assert customer()[1].website == ""  # nothing saved
    set_value(user, "account-phone", "+1 415 555 0177")
    set_value(user, "account-tax-number", "US-99-1234567")
    user.find(marker="account-save").click()
    await until(lambda: customer()[1].tax_number == "US-99-1234567")
    contact, client = customer()
    assert (contact.phone, client.website) == ("+1 415-555-0177", "https://bluebird.example")
    await user.should_see("US-99-1234567", retries=40)  # Home is drawn again with the new details


async def test_the_address_pencil_needs_a_postal_code_and_saves_a_shipping_address(user):
    await post_login(user)
    before = customer()[1].postal_code
    await open_home(user)
    user.find(marker="edit-addresses").click()
    await user.should_see("Ship to the billing address")
    set_value(user, "account-billing-postal-code", "")
    user.find(marker="address-save").click()
    await user.should_see("Please correct the fields marked in red.", retries=40)
    (postal,) = user.find(marker="account-billing-postal-code").elements
    assert postal.props["error-message"]
    assert customer()[1].postal_code == before
    set_value(user, "account-billing-postal-code", before)
    set_value(user, "account-same-address", False)
    set_value(user, "account-shipping-line1", "7 Dock Street")
    set_value(user, "account-shipping-city", "Oakland")
    set_value(user, "account-shipping-region", "CA")
    set_value(user, "account-shipping-postal-code", "94607")
    set_value(user, "account-shipping-country", "US")
    user.find(marker="address-save").click()
    await until(lambda: customer()[1].shipping_line1 == "7 Dock Street")
    await user.should_see("7 Dock Street", retries=40)


async def test_cancel_changes_nothing(user):
    await post_login(user)
    await open_home(user)
    user.find(marker="edit-account-details").click()
    await user.should_see("Update Account Details")
    set_value(user, "account-name", "Someone Else")
    user.find("Cancel").click()
    await asyncio.sleep(0.2)
    assert customer()[0].name == "Dana Demo"


async def test_change_password_refuses_each_bad_input_then_changes_it(user):
    await post_login(user)
    await user.open("/password")
    await user.should_see("At least 10 characters")
    cases = [
        ("wrong-old-password", NEW_PASSWORD, NEW_PASSWORD, "current password"),
        (CUSTOMER_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "do not match"),
        (CUSTOMER_PASSWORD, "password123", "password123", "10 characters"),
    ]
    for old, new, confirm, message in cases:
        set_value(user, "password-old", old)
        set_value(user, "password-new", new)
        set_value(user, "password-confirm", confirm)
        user.find(marker="password-save").click()
        await user.should_see(message, retries=40)
    hash_before = customer()[0].password_hash
    set_value(user, "password-old", CUSTOMER_PASSWORD)
    set_value(user, "password-new", NEW_PASSWORD)
    set_value(user, "password-confirm", NEW_PASSWORD)
    user.find(marker="password-save").click()
    await user.should_see("Your password is changed.", retries=40)
    assert customer()[0].password_hash != hash_before
    refused = await post_login(user)  # the old password no longer works
    assert "error=invalid" in refused.headers["location"]
    signed_in = await post_login(user, password=NEW_PASSWORD)
    assert signed_in.headers["location"] == "/"


async def test_send_email_refuses_an_empty_message_then_reaches_the_business(user):
    await post_login(user)
    await open_home(user)
    user.find("Send Email").click()
    set_value(user, "email-subject", "Invoice question")
    user.find(marker="email-send").click()
    await user.should_see("Please write a message.", retries=40)
    assert count(Message) == 0
    set_value(user, "email-message", "Could you split INV-00012 into two payments?")
    inbox_version = portal.current().events.version(BUSINESS_INBOX_TOPIC)
    user.find(marker="email-send").click()
    await user.should_see("Your message is sent.", retries=40)
    assert portal.current().events.version(BUSINESS_INBOX_TOPIC) > inbox_version  # open inboxes refresh
    with portal.current().db.reading() as session:
        message = session.scalars(select(Message)).one()
        email = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
    assert message.subject == "Invoice question"
    assert email is not None
    assert (email.to_addresses, email.reply_to) == ("hello@northwind.example", CUSTOMER_EMAIL)


async def test_a_review_needs_stars_then_says_thank_you(user):
    await post_login(user)
    await open_home(user)
    user.find("Review").click()
    set_value(user, "review-message", "Great work on the new website.")
    user.find(marker="review-submit").click()
    await user.should_see("Please choose a rating from 1 to 5 stars.", retries=40)
    assert count(Review) == 0
    set_value(user, "review-rating", 5)
    inbox_version = portal.current().events.version(BUSINESS_INBOX_TOPIC)
    user.find(marker="review-submit").click()
    await user.should_see("Thank you for your review!", retries=40)
    assert portal.current().events.version(BUSINESS_INBOX_TOPIC) > inbox_version
    with portal.current().db.reading() as session:
        review = session.scalars(select(Review)).one()
    assert (review.rating, review.body) == (5, "Great work on the new website.")


async def test_forgot_password_answers_the_same_for_any_address(user):
    for email in (CUSTOMER_EMAIL, "nobody@nowhere.example"):
        await user.open("/forgot-password")
        set_value(user, "reset-email", email)
        user.find(marker="reset-send").click()
        await user.should_see("If that address belongs to a portal login", retries=40)
    with portal.current().db.reading() as session:
        sent = session.scalars(select(OutboxEmail.to_addresses)).all()
    assert sent.count(CUSTOMER_EMAIL) == 1
    assert "nobody@nowhere.example" not in sent


async def test_forgot_password_answers_after_the_same_time_for_a_login_and_an_unknown_address(user):
    """A link for a login takes writes (a token, an e-mail) that an unknown address does not: the page's
    answer must not come sooner for one than for the other."""
    _, client = customer()
    logins = [f"reset-{n}@client.example" for n in range(7)]  # each gets its link: no per-address limit
    for email in logins:
        make_portal_user(portal.current().db, client.id, email)

    def answered() -> bool:
        try:
            return bool(user.find(marker="reset-sent").elements)
        except AssertionError:  # (find insists on finding)
            return False

    async def answer_time(email: str) -> float:
        await user.open("/forgot-password")
        set_value(user, "reset-email", email)
        started = time.perf_counter()
        user.find(marker="reset-send").click()
        while not answered():
            await asyncio.sleep(0.002)
        return time.perf_counter() - started

    known, unknown = [], []
    for n, email in enumerate(logins):
        known.append(await answer_time(email))
        unknown.append(await answer_time(f"nobody-{n}@nowhere.example"))

    assert count(OutboxEmail) == len(logins)
    assert abs(statistics.median(known) - statistics.median(unknown)) <= 0.25 * statistics.median(known), (
        known,
        unknown,
    )


async def test_a_tampered_link_gets_a_clear_page(user):
    await user.open("/set-password?token=not-a-real-token")
    await user.should_see("This link cannot be used")
    await user.should_see("Forgot password? Get a new link")


async def test_every_page_has_logout(user):
    await post_login(user)
    for path in ("/", "/invoices", "/payments", "/statement", "/password"):
        await user.open(path)
        await user.should_see("Logout")


def ticked(user) -> list[str]:
    """The password requirements shown ticked off (each a row: its icon, then its text)."""
    (checklist,) = user.find(marker="password-requirements").elements
    rows = [row.default_slot.children for row in checklist.default_slot.children]
    return [label.text for icon, label in rows if icon.props["name"] == "check_circle"]


async def test_the_password_checklist_ticks_nothing_while_the_field_is_empty(user):
    await post_login(user)
    await user.open("/password")
    await user.should_see("Not your e-mail address or your name.")
    assert ticked(user) == []
    set_value(user, "password-new", NEW_PASSWORD)
    assert "Not your e-mail address or your name." in ticked(user)
    set_value(user, "password-new", "")  # emptied again: nothing is met any more
    assert ticked(user) == []
