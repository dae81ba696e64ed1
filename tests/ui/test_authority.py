"""A customer's open page acts only while its session stands, and leaves for the sign-in page once it
does not (components.authority). Events go the browser's way, through the page's socket."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import func, select, update

from api.auth import SessionCheck
from components import authority
from models import (
    Client,
    Comment,
    Invoice,
    InvoiceStatus,
    LoginSession,
    Message,
    PasswordToken,
    Payment,
    PortalUser,
    Review,
)
from services import portal
from services.auth import IDLE_TIMEOUT, new_session_token, sign_in, sign_out, token_hash
from services.contacts import disable_contact
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from services.invitations import set_password
from services.password_change import change_password
from services.session_standing import customer_standing
from tests.ui.browser_events import checked, left_for, marked, send_event, until
from tests.ui.conftest import open_home, post_login
from tests.ui.test_pay import fill_card

NEW_PASSWORD = "Quiet-Harbour-Lantern-47"


async def open_signed_in(user: User, path: str) -> None:
    await post_login(user)
    if path == "/":
        await open_home(user)  # its content follows over the connection
    else:
        await user.open(path)
    await checked(user)


def session_token(user: User) -> str:
    return user.http_client.cookies["portal_session"]


def button(user: User, text: str) -> ui.button:
    [found] = user.find(kind=ui.button, content=text).elements
    assert isinstance(found, ui.button)
    return found


def count(model: type) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def comments_saying(text: str) -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).where(Comment.body == text)) or 0


def an_invoice() -> str:
    with portal.current().db.reading() as session:
        return (
            session.scalars(
                select(Invoice.public_id)
                .join(PortalUser, PortalUser.client_id == Invoice.client_id)
                .where(PortalUser.email == CUSTOMER_EMAIL, Invoice.status != InvoiceStatus.DRAFT)
                .order_by(Invoice.id)
            ).first()
            or ""
        )


def customer() -> PortalUser:
    with portal.current().db.reading() as session:
        return session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()


def move_clock(by: timedelta) -> None:
    """From now on the portal's clock is ``by`` ahead (its sessions see that much time pass)."""
    current = portal.current()
    portal.install(replace(current, clock=lambda: current.clock() + by))


async def test_after_signing_out_in_another_tab_a_comment_is_not_posted_and_the_page_leaves(user):
    invoice = an_invoice()
    await open_signed_in(user, f"/invoices/{invoice}")
    marked(user, "comment-box").value = "Is this one still due?"  # type: ignore[attr-defined]
    current = portal.current()

    sign_out(current.db, session_token(user), events=current.events)  # Logout, in another tab
    send_event(user, button(user, "Add Comment"))

    assert await left_for(user, "/login") == {"next": f"/invoices/{invoice}", "expired": "1"}
    assert comments_saying("Is this one still due?") == 0


async def test_after_a_password_change_elsewhere_send_email_sends_nothing(user: User) -> None:
    await open_signed_in(user, "/")
    user.find("Send Email").click()
    marked(user, "email-subject").value = "Question"  # type: ignore[attr-defined]
    marked(user, "email-message").value = "Can we talk about INV-00012?"  # type: ignore[attr-defined]
    current = portal.current()
    laptop = sign_in(current.db, email=CUSTOMER_EMAIL, password=CUSTOMER_PASSWORD, ip_address="10.0.0.2")

    change_password(  # on the laptop: every other session of this login ends
        current.db,
        laptop.principal,
        CUSTOMER_PASSWORD,
        NEW_PASSWORD,
        NEW_PASSWORD,
        ip_address="10.0.0.2",
        rounds=4,
        events=current.events,
    )
    send_event(user, marked(user, "email-send"))

    assert (await left_for(user, "/login"))["expired"] == "1"
    assert count(Message) == 0


async def test_after_a_password_reset_the_pay_button_starts_no_payment(user: User) -> None:
    await open_signed_in(user, "/pay")
    fill_card(user, "4242 4242 4242 4242")
    payments = count(Payment)
    current = portal.current()
    token = new_session_token()  # a reset link's token, as "Forgot password?" mails it
    with current.db.transaction() as session:
        session.add(
            PasswordToken(
                portal_user_id=customer().id,
                purpose="reset",
                token_hash=token_hash(token),
                expires_at=current.clock() + timedelta(hours=1),
                created_at=current.clock(),
            )
        )

    set_password(current.db, token, NEW_PASSWORD, NEW_PASSWORD, rounds=4, events=current.events)
    send_event(user, marked(user, "pay-submit"))

    assert (await left_for(user, "/login"))["next"] == "/pay"
    assert count(Payment) == payments


async def test_after_two_idle_hours_neither_a_value_nor_a_click_reaches_the_page(user: User) -> None:
    invoice = an_invoice()
    await open_signed_in(user, f"/invoices/{invoice}")
    box = marked(user, "comment-box")

    move_clock(IDLE_TIMEOUT + timedelta(minutes=1))
    send_event(user, box, "update:value", "Typed after the time-out")  # (ui.input's VALUE_PROP)
    send_event(user, button(user, "Add Comment"))

    assert (await left_for(user, "/login"))["expired"] == "1"
    assert box.value == ""  # type: ignore[attr-defined]
    assert comments_saying("Typed after the time-out") == 0


async def test_after_the_absolute_time_out_a_review_is_not_kept(user: User) -> None:
    await post_login(user)
    current = portal.current()
    with current.db.transaction() as session:  # signed in 13 days and 23 hours ago, used all along
        session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == token_hash(session_token(user)))
            .values(expires_at=current.clock() + timedelta(hours=1))
        )
    await open_home(user)
    await checked(user)
    user.find("Review").click()
    marked(user, "review-rating").value = 5  # type: ignore[attr-defined]
    marked(user, "review-message").value = "Lovely work."  # type: ignore[attr-defined]

    move_clock(timedelta(hours=1, minutes=1))  # well within the idle time-out
    send_event(user, marked(user, "review-submit"))

    assert (await left_for(user, "/login"))["expired"] == "1"
    assert count(Review) == 0


async def test_a_disabled_contacts_open_invoice_page_posts_no_comment(user: User) -> None:
    invoice = an_invoice()
    await open_signed_in(user, f"/invoices/{invoice}")
    marked(user, "comment-box").value = "Still here?"  # type: ignore[attr-defined]
    current = portal.current()
    contact = customer()
    with current.db.reading() as session:
        client = session.get_one(Client, contact.client_id)

    disable_contact(current.db, client.organization_id, contact.public_id, events=current.events)
    send_event(user, button(user, "Add Comment"))

    assert (await left_for(user, "/login"))["next"] == f"/invoices/{invoice}"
    assert comments_saying("Still here?") == 0


async def test_an_open_page_leaves_within_about_a_second_of_a_sign_out_elsewhere(user: User) -> None:
    await open_signed_in(user, "/invoices")
    current = portal.current()

    sign_out(current.db, session_token(user), events=current.events)
    ended = time.monotonic()

    assert await left_for(user, "/login", seconds=5) == {"next": "/invoices", "expired": "1"}
    assert time.monotonic() - ended < 2.5  # the page looks about once a second


async def test_an_open_page_leaves_by_itself_when_its_session_times_out(user: User) -> None:
    await open_signed_in(user, "/statement")

    move_clock(IDLE_TIMEOUT)  # nothing announces a time-out: the page knows when it is due
    timed_out = time.monotonic()

    assert await left_for(user, "/login", seconds=5) == {"next": "/statement", "expired": "1"}
    assert time.monotonic() - timed_out < 2.5


async def test_a_page_whose_session_stands_still_acts(user: User) -> None:
    invoice = an_invoice()
    await open_signed_in(user, f"/invoices/{invoice}")
    marked(user, "comment-box").value = "Thanks!"  # type: ignore[attr-defined]

    send_event(user, button(user, "Add Comment"))

    await until(lambda: comments_saying("Thanks!") == 1)
    assert user.back_history[-1] == f"/invoices/{invoice}"


async def test_a_page_takes_its_request_s_session_check_as_its_first_unless_a_notice_came_since(
    user: User, monkeypatch
) -> None:
    asked: list[str] = []

    def standing(*args, **kwargs):
        asked.append(args[1])
        return customer_standing(*args, **kwargs)

    monkeypatch.setattr(authority, "CUSTOMERS", replace(authority.CUSTOMERS, standing=standing))
    await post_login(user)
    await user.open("/invoices")
    assert user.client is not None
    holder = authority.holder_of(user.client)
    assert holder is not None
    await until(lambda: holder.following)  # connected, and followed
    await asyncio.sleep(0.3)
    assert asked == []  # the request had just asked: neither its connection nor its follower asks again
    current = portal.current()
    assert holder.trusted(current)

    # A notice of any kind between a request's check and its page, or a check older than a trusted
    # yes: the page asks the database itself.
    def taken(check: SessionCheck) -> bool:
        fresh = replace(holder, seen=None, ends_at=None, trusted_until=0.0)
        authority.take_request_check(fresh, check)
        return fresh.trusted(current)

    assert holder.ends_at is not None
    assert taken(SessionCheck(time.monotonic(), current.events.heard(), holder.ends_at))
    before = current.events.heard()
    current.events.publish("business:settings")
    assert not taken(SessionCheck(time.monotonic(), before, holder.ends_at))
    assert not taken(SessionCheck(time.monotonic() - 2, current.events.heard(), holder.ends_at))
