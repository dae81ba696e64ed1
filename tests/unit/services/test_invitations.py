"""Invitations and resets: single-use links valid 72 hours and 1 hour, stored only as hashes,
limited per address and per IP, and answered the same whether or not an address has a login."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Organization, OutboxEmail, PasswordToken, PortalUser, StaffUser
from services import invitations
from services.auth import resolve_session, sign_in, token_hash
from services.errors import (
    ContactHasLogin,
    EmailTaken,
    InvalidDetails,
    InvalidToken,
    NotFound,
    PasswordMismatch,
    WeakPassword,
    human_message,
)
from services.invitations import (
    RESET_REQUESTS_PER_IP_PER_HOUR,
    RESETS_PER_ADDRESS_PER_HOUR,
    TokenInfo,
    check_token,
    invite_contact,
    request_password_reset,
    set_password,
)
from services.outbox import links_for_delivery
from tests.factories import NOW, Clock, make_client, make_customer, make_organization
from tests.snapshots import snapshot, stored_values

BASE_URL = "https://portal.acme.example/"
PASSWORD = "Plum-Tractor-Lagoon-47"


@pytest.fixture
def client_id(db):
    return make_client(db, make_organization(db))


def invite(db, client_id, clock, email="Cleo@Client.example ", name="Cleo Jones", **kwargs):
    return invite_contact(db, client_id, name=name, email=email, base_url=BASE_URL, clock=clock, **kwargs)


def reset(db, email="ann@client.example", clock=None, ip="10.0.0.1"):
    request_password_reset(db, email, base_url=BASE_URL, ip_address=ip, clock=clock or Clock())


def outbox(db):
    with db.reading() as session:
        return session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def link_token(email):
    """The token of the link in ``email`` as the sender opens it (the outbox holds it sealed)."""
    body = links_for_delivery(email.body_text, email.created_at)
    [token] = re.findall(r"https://portal\.acme\.example/set-password\?token=([\w-]+)", body)
    return token


def set_pw(db, token, clock, password=PASSWORD, confirm=None):
    return set_password(db, token, password, password if confirm is None else confirm, clock=clock, rounds=4)


def test_an_invitation_creates_a_login_without_password_and_mails_a_link(db, client_id):
    clock = Clock()
    invitation = invite(db, client_id, clock)
    assert invitation.email == "cleo@client.example"
    assert invitation.expires_at == NOW + timedelta(hours=72)
    assert not invitation.resent
    [email] = outbox(db)
    assert email.to_addresses == "cleo@client.example"
    assert email.subject == "Acme Studio invites you to its customer portal"
    assert "within the next 72 hours" in email.body_text
    token = link_token(email)
    with db.reading() as session:
        user = session.get_one(PortalUser, invitation.portal_user_id)
        [row] = session.scalars(select(PasswordToken)).all()
    assert (user.client_id, user.name, user.password_hash, user.invited_at) == (
        client_id,
        "Cleo Jones",
        None,
        NOW,
    )
    assert (row.purpose, row.token_hash, row.used_at) == ("invite", token_hash(token), None)
    assert check_token(db, token, clock=clock) == TokenInfo(
        "invite", "cleo@client.example", "Cleo Jones", NOW + timedelta(hours=72)
    )


def test_an_invited_contact_sets_a_password_once_and_signs_in(db, client_id):
    clock = Clock()
    user_id = invite(db, client_id, clock).portal_user_id
    token = link_token(outbox(db)[0])
    clock.advance(hours=71, minutes=59)
    assert set_pw(db, token, clock) == user_id
    assert sign_in(
        db, email="cleo@client.example", password=PASSWORD, ip_address="10.0.0.1", clock=clock
    ).token
    before = snapshot(db)
    with pytest.raises(InvalidToken) as second:
        set_pw(db, token, clock, password="Another-Long-Phrase-88")
    assert (second.value.reason, second.value.purpose) == ("used", "invite")
    assert human_message(second.value).startswith("This link has already been used")
    assert snapshot(db) == before
    with pytest.raises(InvalidToken):
        check_token(db, token, clock=clock)
    with db.reading() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "invitation.accepted" in actions


def test_only_hashes_of_tokens_are_stored(db, client_id):
    clock = Clock()
    make_customer(db, email="ann@client.example")
    invite(db, client_id, clock)
    reset(db, clock=clock)
    tokens = [link_token(email) for email in outbox(db)]
    assert len(tokens) == 2
    # Nothing holds a token readable: the outbox keeps the e-mail's link sealed until it is sent.
    holding = {
        (table, column)
        for table, column, value in stored_values(db)
        for token in tokens
        if isinstance(value, str) and token in value
    }
    assert holding == set()
    with db.reading() as session:
        hashes = set(session.scalars(select(PasswordToken.token_hash)).all())
    assert hashes == {token_hash(token) for token in tokens}


def test_an_invitation_expires_after_72_hours(db, client_id):
    clock = Clock()
    invite(db, client_id, clock)
    token = link_token(outbox(db)[0])
    clock.advance(hours=72)
    with pytest.raises(InvalidToken) as expired:
        check_token(db, token, clock=clock)
    assert (expired.value.reason, expired.value.purpose) == ("expired", "invite")
    assert human_message(expired.value) == (
        "This link has expired. Please ask the business to send you a new invitation."
    )
    before = snapshot(db)
    with pytest.raises(InvalidToken):
        set_pw(db, token, clock)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t[:20],
        lambda t: "",
        lambda t: t + "x" * 200,
    ],
)
def test_a_tampered_link_is_unknown(db, client_id, tamper):
    clock = Clock()
    invite(db, client_id, clock)
    token = link_token(outbox(db)[0])
    with pytest.raises(InvalidToken) as unknown:
        check_token(db, tamper(token), clock=clock)
    assert unknown.value.reason == "unknown"
    assert human_message(unknown.value).startswith("This link is not valid.")
    with pytest.raises(InvalidToken):
        set_pw(db, tamper(token), clock)


def test_resending_an_invitation_replaces_the_earlier_link(db, client_id):
    clock = Clock()
    first = invite(db, client_id, clock)
    clock.advance(hours=1)
    again = invite(db, client_id, clock, name="Cleo Jones-Smith")
    assert again.resent
    assert again.portal_user_id == first.portal_user_id
    old, new = (link_token(email) for email in outbox(db))
    with pytest.raises(InvalidToken) as replaced:
        check_token(db, old, clock=clock)
    assert replaced.value.reason == "replaced"
    assert "newer link was sent" in human_message(replaced.value)
    assert check_token(db, new, clock=clock).name == "Cleo Jones-Smith"


def test_a_login_with_a_password_is_not_invited_again(db, client_id):
    ann = make_customer(db, email="ann@client.example")
    before = snapshot(db)
    with pytest.raises(EmailTaken) as taken:
        invite(db, client_id, Clock(), email="ANN@client.example")
    assert "another customer" in human_message(taken.value)
    with pytest.raises(ContactHasLogin) as has_login:
        invite(db, ann.client_id, Clock(), email="ann@client.example")
    assert "Forgot password?" in human_message(has_login.value)
    assert snapshot(db) == before


def test_invitation_details_are_checked_per_field(db, client_id):
    with pytest.raises(InvalidDetails) as refused:
        invite(db, client_id, Clock(), email="cleo@", name=" ")
    assert set(refused.value.errors) == {"name", "email"}
    assert refused.value.errors["name"] == "Enter the contact's name."
    assert outbox(db) == []


def test_the_inviting_staff_member_must_work_for_the_clients_business(db, client_id):
    with db.transaction() as session:
        other = Organization(name="Other Business", created_at=NOW)
        session.add(other)
        session.flush()
        outsider = StaffUser(
            organization_id=other.id,
            name="Mallory",
            email="m@other.example",
            password_hash="x",
            created_at=NOW,
        )
        session.add(outsider)
        session.flush()
        outsider_id = outsider.id
    with pytest.raises(NotFound):
        invite(db, client_id, Clock(), invited_by_staff_id=outsider_id)
    with pytest.raises(NotFound):
        invite(db, 999_999, Clock())
    assert outbox(db) == []


def test_a_reset_link_works_once_within_an_hour_and_ends_every_session(db):
    ann = make_customer(db)
    clock = Clock()
    signed_in = sign_in(
        db, email="ann@client.example", password="Correct-Horse-9", ip_address="10.0.0.1", clock=clock
    )
    reset(db, email="  ANN@client.example", clock=clock)
    [email] = outbox(db)
    assert email.to_addresses == "ann@client.example"
    assert email.subject == "Reset your password for Acme Studio's customer portal"
    assert "within the next hour" in email.body_text
    token = link_token(email)
    assert check_token(db, token, clock=clock).purpose == "reset"
    clock.advance(minutes=59)
    assert set_pw(db, token, clock) == ann.portal_user_id
    assert resolve_session(db, signed_in.token, clock=clock) is None
    assert sign_in(
        db, email="ann@client.example", password=PASSWORD, ip_address="10.0.0.1", clock=clock
    ).token
    with pytest.raises(InvalidToken) as used:
        set_pw(db, token, clock)
    assert used.value.reason == "used"
    assert "Forgot password?" in human_message(used.value)


def test_a_reset_link_expires_after_an_hour(db):
    make_customer(db)
    clock = Clock()
    reset(db, clock=clock)
    token = link_token(outbox(db)[0])
    clock.advance(hours=1)
    with pytest.raises(InvalidToken) as expired:
        set_pw(db, token, clock)
    assert expired.value.reason == "expired"
    assert human_message(expired.value).startswith("This link has expired. You can ask for a new one")


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(db):
    make_customer(db)
    for address in ("nobody@client.example", "ann@client.example"):
        reset(db, email=address)  # returns None either way, so the page cannot tell them apart
    assert [email.to_addresses for email in outbox(db)] == ["ann@client.example"]
    with db.reading() as session:
        assert len(session.scalars(select(PasswordToken)).all()) == 1


def test_a_disabled_login_gets_no_reset_link(db):
    ann = make_customer(db)
    with db.transaction() as session:
        session.get_one(PortalUser, ann.portal_user_id).is_active = False
    reset(db)
    assert outbox(db) == []


def test_at_most_three_reset_links_per_address_an_hour(db):
    make_customer(db)
    clock = Clock()
    for _ in range(RESETS_PER_ADDRESS_PER_HOUR + 1):
        reset(db, clock=clock)
        clock.advance(minutes=10)
    assert len(outbox(db)) == 3
    *replaced, latest = [link_token(email) for email in outbox(db)]
    for token in replaced:
        with pytest.raises(InvalidToken):
            check_token(db, token, clock=clock)
    assert check_token(db, latest, clock=Clock(NOW + timedelta(minutes=25))).purpose == "reset"
    clock.now = NOW + timedelta(hours=1, seconds=1)
    reset(db, clock=clock)
    assert len(outbox(db)) == 4


def test_twenty_requests_from_one_ip_an_hour_then_nothing(db):
    make_customer(db)
    clock = Clock()
    for number in range(RESET_REQUESTS_PER_IP_PER_HOUR):
        reset(db, email=f"guess{number}@client.example", clock=clock, ip="192.0.2.7")
    reset(db, clock=clock, ip="192.0.2.7")
    assert outbox(db) == []
    reset(db, clock=clock, ip="192.0.2.8")
    assert len(outbox(db)) == 1


def test_a_weak_or_mismatched_password_leaves_the_link_usable(db, client_id):
    clock = Clock()
    invite(db, client_id, clock)
    token = link_token(outbox(db)[0])
    before = snapshot(db)
    with pytest.raises(WeakPassword):
        set_pw(db, token, clock, password="cleojones1")
    with pytest.raises(PasswordMismatch):
        set_pw(db, token, clock, confirm=PASSWORD + "!")
    assert snapshot(db) == before
    assert set_pw(db, token, clock)


def test_setting_a_password_ends_the_other_outstanding_links(db, client_id):
    clock = Clock()
    invite(db, client_id, clock)
    reset(db, email="cleo@client.example", clock=clock)
    invitation, reset_link = (link_token(email) for email in outbox(db))
    set_pw(db, reset_link, clock)
    with pytest.raises(InvalidToken) as replaced:
        check_token(db, invitation, clock=clock)
    assert replaced.value.reason == "replaced"


def test_a_link_used_twice_at_the_same_moment_sets_one_password(db, client_id, monkeypatch):
    clock = Clock()
    invite(db, client_id, clock)
    token = link_token(outbox(db)[0])
    both_checked = threading.Barrier(2, timeout=10)
    real_hash = invitations.hash_password

    def hash_after_both_checked(password, *, rounds):
        both_checked.wait()  # both requests have found the link unused before either spends it
        return real_hash(password, rounds=rounds)

    monkeypatch.setattr(invitations, "hash_password", hash_after_both_checked)
    outcomes: list[object] = []

    def use(password):
        try:
            outcomes.append(set_pw(db, token, clock, password=password))
        except InvalidToken as error:
            outcomes.append(error.reason)

    threads = [threading.Thread(target=use, args=(p,)) for p in (PASSWORD, "Another-Long-Phrase-88")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes)) == sorted([str(invitations_user_id(db)), "used"])
    with db.reading() as session:
        spent = session.scalars(select(PasswordToken.used_at)).all()
    assert spent == [NOW]


def invitations_user_id(db):
    with db.reading() as session:
        return session.scalars(select(PortalUser.id).where(PortalUser.email == "cleo@client.example")).one()
