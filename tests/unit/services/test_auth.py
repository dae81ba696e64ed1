"""Sessions time out, throttles lock and back off, and sign-in only ever redirects locally."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Client
from services.auth import resolve_session, safe_local_path, sign_in, sign_out
from services.errors import SignInLocked, SignInRefused
from services.events import client_documents_topic
from services.live_topics import documents_topic
from tests.factories import Clock, make_client, make_organization, make_portal_user

PASSWORD = "Correct-Horse-9"


@pytest.fixture
def customer(db):
    client_id = make_client(db, make_organization(db))
    make_portal_user(db, client_id, "ann@client.example", PASSWORD)
    return client_id


def attempt(db, clock, password=PASSWORD, email="ann@client.example", ip="10.0.0.1"):
    # an unknown e-mail is checked against a stand-in hash of this cost (the timing tests use the real one)
    return sign_in(db, email=email, password=password, ip_address=ip, clock=clock, rounds=4)


def test_a_session_names_its_customer_and_client(db, customer):
    clock = Clock()
    issued = attempt(db, clock, email="  Ann@Client.Example ")
    principal = resolve_session(db, issued.token, clock=clock)
    assert principal is not None
    assert principal.client_id == customer
    assert principal.email == "ann@client.example"


def test_a_session_knows_its_client_s_live_topic_without_another_query(db, customer):
    clock = Clock()
    issued = attempt(db, clock)
    principal = resolve_session(db, issued.token, clock=clock)
    assert principal is not None
    with db.reading() as session:
        public_id = session.scalar(select(Client.public_id).where(Client.id == customer))
    assert issued.principal.client_public_id == principal.client_public_id == public_id
    # the page's live topic comes from the session alone: no database is asked (None would fail)
    assert documents_topic(None, principal) == client_documents_topic(public_id)  # type: ignore[arg-type]
    # a principal made elsewhere, without it, still reads it
    assert documents_topic(db, replace(principal, client_public_id="")) == client_documents_topic(public_id)


def test_a_session_ends_after_two_idle_hours(db, customer):
    clock = Clock()
    token = attempt(db, clock).token
    clock.advance(hours=1, minutes=59)
    assert resolve_session(db, token, clock=clock) is not None  # use renews the idle timer
    clock.advance(hours=1, minutes=59)
    assert resolve_session(db, token, clock=clock) is not None
    clock.advance(hours=2)
    assert resolve_session(db, token, clock=clock) is None


def test_a_session_ends_fourteen_days_after_sign_in_however_busy(db, customer):
    clock = Clock()
    token = attempt(db, clock).token
    for _ in range(14 * 24 - 1):
        clock.advance(hours=1)
        assert resolve_session(db, token, clock=clock) is not None
    clock.advance(hours=1)
    assert resolve_session(db, token, clock=clock) is None


def test_sign_out_revokes_only_that_session(db, customer):
    clock = Clock()
    laptop = attempt(db, clock).token
    phone = attempt(db, clock).token
    sign_out(db, laptop, clock=clock)
    assert resolve_session(db, laptop, clock=clock) is None
    assert resolve_session(db, phone, clock=clock) is not None


def test_unknown_tokens_are_no_session(db, customer):
    assert resolve_session(db, None) is None
    assert resolve_session(db, "made-up") is None


def test_wrong_password_and_unknown_email_raise_the_same_error(db, customer):
    clock = Clock()
    with pytest.raises(SignInRefused):
        attempt(db, clock, password="nope")
    with pytest.raises(SignInRefused):
        attempt(db, clock, email="who@client.example")


def test_the_fifth_failure_in_fifteen_minutes_locks_the_account(db, customer):
    clock = Clock()
    for _ in range(4):
        with pytest.raises(SignInRefused):
            attempt(db, clock, password="nope")
        clock.advance(minutes=3)
    with pytest.raises(SignInLocked) as locked:
        attempt(db, clock, password="nope")
    assert locked.value.until == clock.now + timedelta(minutes=15)
    clock.advance(minutes=14)
    with pytest.raises(SignInLocked):
        attempt(db, clock)  # even the right password
    clock.advance(minutes=1)
    assert attempt(db, clock).token


def test_failures_spread_beyond_the_window_do_not_lock(db, customer):
    clock = Clock()
    for _ in range(10):
        with pytest.raises(SignInRefused):
            attempt(db, clock, password="nope")
        clock.advance(minutes=4)
    assert attempt(db, clock).token


def test_each_new_lock_lasts_twice_as_long(db, customer):
    clock = Clock()
    for expected in (15, 30, 60):
        for _ in range(4):
            with pytest.raises(SignInRefused):
                attempt(db, clock, password="nope")
        with pytest.raises(SignInLocked) as locked:
            attempt(db, clock, password="nope")
        assert locked.value.until - clock.now == timedelta(minutes=expected)
        clock.now = locked.value.until


def test_twenty_failures_from_one_address_lock_that_address_for_every_account(db, customer):
    clock = Clock()
    for number in range(19):
        with pytest.raises(SignInRefused):
            attempt(db, clock, email=f"guess{number}@client.example", ip="192.0.2.7")
    with pytest.raises(SignInLocked):
        attempt(db, clock, email="guess99@client.example", ip="192.0.2.7")
    with pytest.raises(SignInLocked):
        attempt(db, clock, ip="192.0.2.7")
    assert attempt(db, clock, ip="192.0.2.8").token  # the account itself is not locked


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/invoices?status=unpaid", "/invoices?status=unpaid"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("invoices", "/"),
    ],
)
def test_only_local_paths_are_sign_in_targets(target, expected):
    assert safe_local_path(target) == expected
