"""Signing in by e-mail link: once, within 15 minutes, hashed at rest, throttled like Forgot password?,
the same answer for any address, the second step still asked for, and off when the business says so."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select, update

from models import Organization, OutboxEmail, PasswordToken
from services.auth import resolve_session, token_hash
from services.errors import InvalidToken
from services.outbox import links_for_delivery
from services.second_step import SecondStepRequired
from services.sign_in_links import (
    LINKS_PER_ADDRESS_PER_HOUR,
    REQUESTS_PER_IP_PER_HOUR,
    check_sign_in_link,
    request_sign_in_link,
    sign_in_with_link,
)
from services.two_factor import begin_setup, confirm_setup
from tests.factories import Clock, make_customer

BASE_URL = "https://portal.acme.example/"
LINK = re.compile(r"https://portal\.acme\.example/sign-in-link\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ann(db):
    return make_customer(db)


def ask(db, clock, email="ann@client.example", ip="10.0.0.1"):
    request_sign_in_link(db, email, base_url=BASE_URL, ip_address=ip, clock=clock)


def mails(db):
    with db.reading() as session:
        fields = (OutboxEmail.to_addresses, OutboxEmail.subject, OutboxEmail.body_text)
        return session.execute(select(*fields).order_by(OutboxEmail.id)).all()  # the newest last


def token_in(db, clock) -> str:
    """The token of the newest link, as the e-mail carries it when it is sent."""
    *_, (_, _, body) = mails(db)
    found = LINK.search(links_for_delivery(body, clock()))
    assert found, body
    return found.group(1)


def sign_in(db, token, clock):
    return sign_in_with_link(db, token, ip_address="10.0.0.1", user_agent="test", clock=clock)


def test_the_link_signs_in_once(db, ann, clock):
    ask(db, clock)
    [(to, subject, body)] = mails(db)
    assert (to, subject) == ("ann@client.example", "Your sign-in link for Acme Studio's customer portal")
    assert "/sign-in-link?token=" not in body  # sealed until it is sent
    token = token_in(db, clock)
    assert check_sign_in_link(db, token, clock=clock) == "ann@client.example"
    issued = sign_in(db, token, clock)
    principal = resolve_session(db, issued.token, clock=clock)
    assert principal is not None
    assert principal.client_id == ann.client_id
    with pytest.raises(InvalidToken) as again:
        sign_in(db, token, clock)
    assert again.value.reason == "used"


def test_only_the_hash_of_the_token_is_kept(db, ann, clock):
    ask(db, clock)
    token = token_in(db, clock)
    with db.reading() as session:
        stored = session.scalars(select(PasswordToken.token_hash)).all()
    assert stored == [token_hash(token)]


def test_the_link_expires_after_15_minutes(db, ann, clock):
    ask(db, clock)
    token = token_in(db, clock)
    clock.advance(minutes=15)
    with pytest.raises(InvalidToken) as expired:
        sign_in(db, token, clock)
    assert expired.value.reason == "expired"


def test_a_newer_link_replaces_the_older(db, ann, clock):
    ask(db, clock)
    older = token_in(db, clock)
    ask(db, clock)
    newer = token_in(db, clock)
    with pytest.raises(InvalidToken) as replaced:
        sign_in(db, older, clock)
    assert replaced.value.reason == "replaced"
    assert sign_in(db, newer, clock).token


def test_an_unknown_or_malformed_token_is_refused(db, ann, clock):
    for token in ("", "not-a-token", "x" * 500):
        with pytest.raises(InvalidToken) as unknown:
            sign_in(db, token, clock)
        assert unknown.value.reason == "unknown"


def test_an_address_without_a_login_gets_nothing_and_the_same_answer(db, ann, clock):
    request_sign_in_link(db, "nobody@else.example", base_url=BASE_URL, ip_address="1.2.3.4", clock=clock)
    assert mails(db) == []


def test_links_per_address_and_requests_per_ip_are_limited(db, ann, clock):
    for _ in range(LINKS_PER_ADDRESS_PER_HOUR + 2):
        ask(db, clock)
    assert len(mails(db)) == LINKS_PER_ADDRESS_PER_HOUR
    clock.advance(hours=1, seconds=1)
    for n in range(REQUESTS_PER_IP_PER_HOUR):
        ask(db, clock, email=f"someone{n}@else.example", ip="10.9.9.9")
    ask(db, clock, ip="10.9.9.9")  # a real login, but this address has asked too often
    assert len(mails(db)) == LINKS_PER_ADDRESS_PER_HOUR
    ask(db, clock, ip="10.0.0.2")
    assert len(mails(db)) == LINKS_PER_ADDRESS_PER_HOUR + 1


def test_turned_off_by_the_business_nothing_is_sent_and_sent_links_stop(db, ann, clock):
    ask(db, clock)
    token = token_in(db, clock)
    with db.transaction() as session:
        session.execute(update(Organization).values(allow_sign_in_links=False))
    with pytest.raises(InvalidToken) as off:
        sign_in(db, token, clock)
    assert off.value.reason == "turned_off"
    ask(db, clock)
    assert len(mails(db)) == 1


def test_with_two_factor_on_the_link_stands_for_the_password_only(db, ann, clock):
    setup = begin_setup(db, ann, clock=clock)
    confirm_setup(db, ann, pyotp.TOTP(setup.secret).at(clock()), clock=clock)
    ask(db, clock)
    with pytest.raises(SecondStepRequired):
        sign_in(db, token_in(db, clock), clock)
