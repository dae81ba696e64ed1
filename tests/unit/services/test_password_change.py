"""Change Password: the rules, refusals that change nothing, a wrong current password that counts
towards the sign-in throttle, and a change that signs out every other browser and says so by e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, OutboxEmail, PortalUser
from services.auth import resolve_session, sign_in
from services.errors import (
    PasswordMismatch,
    PasswordUnchanged,
    SignInLocked,
    SignInRefused,
    WeakPassword,
    WrongCurrentPassword,
    human_message,
)
from services.password_change import REQUIREMENTS, change_password, check_password, password_problems
from tests.factories import NOW, Clock, make_customer
from tests.snapshots import snapshot

OLD = "Correct-Horse-9"  # make_customer's
NEW = "Plum-Tractor-Lagoon-47"
IP = "10.0.0.1"


@pytest.fixture
def browsers(db):
    """Ann signed in on her laptop and on her phone."""
    make_customer(db)
    clock = Clock()
    laptop = sign_in(db, email="ann@client.example", password=OLD, ip_address=IP, clock=clock)
    phone = sign_in(db, email="ann@client.example", password=OLD, ip_address="10.0.0.2", clock=clock)
    return laptop, phone


def change(db, laptop, old=OLD, new=NEW, confirm=None, clock=None):
    return change_password(
        db,
        laptop.principal,
        old,
        new,
        new if confirm is None else confirm,
        ip_address=IP,
        clock=clock or Clock(),
        rounds=4,
    )


def outbox(db):
    with db.reading() as session:
        return session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_a_change_keeps_this_browser_signs_out_the_others_and_sends_a_notice(db, browsers):
    laptop, phone = browsers
    clock = Clock(NOW + timedelta(minutes=5))
    changed = change(db, laptop, clock=clock)
    assert changed.other_sessions_signed_out == 1
    assert changed.notice_sent_to == "ann@client.example"
    assert resolve_session(db, laptop.token, clock=clock) is not None
    assert resolve_session(db, phone.token, clock=clock) is None
    [notice] = outbox(db)
    assert notice.to_addresses == "ann@client.example"
    assert notice.subject == "Your password for Acme Studio's customer portal was changed"
    assert "was changed on Jun 15, 2026, 12:05\u202fPM (UTC)" in notice.body_text  # the reader's zone
    assert "If this was not you" in notice.body_text
    assert "hello@acme.example" in notice.body_text
    assert notice.reply_to == "hello@acme.example"
    with db.reading() as session:
        user = session.get_one(PortalUser, laptop.principal.portal_user_id)
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "password.changed")).all()
    assert user.password_changed_at == clock.now
    assert event.details == {"other_sessions_signed_out": 1}
    assert event.ip_address == IP
    with pytest.raises(SignInRefused):
        sign_in(db, email="ann@client.example", password=OLD, ip_address=IP, clock=clock)
    assert sign_in(db, email="ann@client.example", password=NEW, ip_address=IP, clock=clock).token


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        ("Xq7#", "Use at least 10 characters."),
        ("ann@client.example", "Do not use your e-mail address or your name as the password."),
        ("password123", "This password is easy to guess."),
        ("aaaaaaaaaaaa", "This password is easy to guess."),
        ("qwertyuiop12", "This password is easy to guess."),
    ],
)
def test_a_weak_password_is_refused_with_its_problems_and_nothing_changes(db, browsers, new, problem):
    laptop, _ = browsers
    before = snapshot(db)
    with pytest.raises(WeakPassword) as refused:
        change(db, laptop, new=new)
    assert problem in refused.value.problems
    assert human_message(refused.value).startswith("Please choose another password. ")
    assert problem in human_message(refused.value)
    assert snapshot(db) == before


def test_a_mismatched_confirmation_is_refused_and_nothing_changes(db, browsers):
    laptop, _ = browsers
    before = snapshot(db)
    with pytest.raises(PasswordMismatch) as refused:
        change(db, laptop, confirm=NEW + "x")
    assert human_message(refused.value) == "The new password and its confirmation do not match."
    assert snapshot(db) == before


def test_a_wrong_current_password_is_refused_and_only_counts_as_a_failed_sign_in(db, browsers):
    laptop, phone = browsers
    before = snapshot(db, without=("login_throttles", "audit_events"))
    with pytest.raises(WrongCurrentPassword) as refused:
        change(db, laptop, old="Not-My-Password-1")
    assert human_message(refused.value) == "The current password is not correct."
    assert snapshot(db, without=("login_throttles", "audit_events")) == before
    assert resolve_session(db, phone.token, clock=Clock()) is not None
    with db.reading() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-1] == "password_change.wrong_current"


def test_five_wrong_current_passwords_lock_the_account(db, browsers):
    laptop, _ = browsers
    clock = Clock()
    for _ in range(4):
        with pytest.raises(WrongCurrentPassword):
            change(db, laptop, old="Not-My-Password-1", clock=clock)
        clock.advance(minutes=1)
    with pytest.raises(SignInLocked) as locked:
        change(db, laptop, old="Not-My-Password-1", clock=clock)
    assert locked.value.until == clock.now + timedelta(minutes=15)
    before = snapshot(db)
    with pytest.raises(SignInLocked):
        change(db, laptop, clock=clock)  # the right password is refused while locked, too
    assert snapshot(db) == before
    with pytest.raises(SignInLocked):
        sign_in(db, email="ann@client.example", password=OLD, ip_address="10.9.9.9", clock=clock)
    clock.advance(minutes=15)
    assert change(db, laptop, clock=clock).other_sessions_signed_out == 1


def test_failed_sign_ins_and_wrong_current_passwords_add_up(db, browsers):
    laptop, _ = browsers
    clock = Clock()
    for _ in range(4):
        with pytest.raises(SignInRefused):
            sign_in(db, email="ann@client.example", password="nope", ip_address="10.9.9.9", clock=clock)
    with pytest.raises(SignInLocked):
        change(db, laptop, old="Not-My-Password-1", clock=clock)


def test_the_new_password_must_differ_from_the_current_one(db, browsers):
    laptop, _ = browsers
    before = snapshot(db)
    with pytest.raises(PasswordUnchanged) as refused:
        change(db, laptop, new=OLD)
    assert human_message(refused.value) == "The new password must be different from the current one."
    assert snapshot(db) == before


def test_a_strong_password_has_no_problems_and_every_requirement_met():
    assert password_problems(NEW, email="ann@client.example", name="Ann Smith") == []
    check = check_password(NEW, email="ann@client.example", name="Ann Smith")
    assert check.acceptable
    assert [requirement.text for requirement in check.requirements] == list(REQUIREMENTS)
    assert all(requirement.met for requirement in check.requirements)


def test_the_requirements_are_ticked_one_by_one_while_typing():
    def met(password):
        return [
            r.met for r in check_password(password, email="ann@client.example", name="Ann Smith").requirements
        ]

    assert met("") == [False, False, False, False]  # an empty field ticks nothing
    assert met("Plum") == [False, True, False, True]
    assert met("annsmith") == [False, False, False, True]
    assert met("password1234") == [True, True, False, True]
    assert met(NEW) == [True, True, True, True]
    assert met(NEW * 4) == [True, True, True, False]


def test_the_name_and_the_address_count_as_easily_guessed():
    assert password_problems("ANN.SMITH", email="a@x.example", name="Ann Smith") == [
        "Use at least 10 characters.",
        "Do not use your e-mail address or your name as the password.",
    ]
    assert "This password is easy to guess." in password_problems(
        "annsmith2026", email="ann.smith@client.example", name="Ann Smith"
    )
