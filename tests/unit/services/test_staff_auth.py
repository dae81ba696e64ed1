"""Staff sign in to the back office under the customers' rules, in sessions of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEvent, StaffUser
from services.auth import resolve_session, sign_in
from services.database import Database
from services.errors import SignInLocked, SignInRefused
from services.passwords import hash_password
from services.staff_auth import (
    OwnerOnly,
    StaffPrincipal,
    require_owner,
    resolve_staff_session,
    sign_in_staff,
    sign_out_staff,
)
from tests.factories import NOW, Clock, make_client, make_organization, make_portal_user

PASSWORD = "Staff-Horse-Battery-9"


def make_staff(
    db: Database, organization_id: int, email: str, *, role: str = "owner", active: bool = True
) -> int:
    with db.transaction() as session:
        user = StaffUser(
            organization_id=organization_id,
            name=email.split("@")[0].title(),
            email=email,
            password_hash=hash_password(PASSWORD, rounds=4),
            role=role,
            is_active=active,
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return user.id


@pytest.fixture
def organization(db):
    return make_organization(db)


@pytest.fixture
def owner(db, organization):
    return make_staff(db, organization, "olivia@business.example")


def attempt(db, clock, password=PASSWORD, email="olivia@business.example", ip="10.0.0.1"):
    return sign_in_staff(db, email=email, password=password, ip_address=ip, clock=clock)


def audit_count(db, action):
    with db.reading() as session:
        return session.scalar(select(func.count()).where(AuditEvent.action == action))


def test_a_staff_session_names_the_person_role_and_business(db, organization, owner):
    clock = Clock()
    issued = attempt(db, clock, email=" Olivia@Business.Example ")
    principal = resolve_staff_session(db, issued.token, clock=clock)
    assert principal == StaffPrincipal(
        owner, organization, "Olivia", "olivia@business.example", "owner", issued.principal.session_id
    )
    assert principal.is_owner
    assert audit_count(db, "staff_sign_in.succeeded") == 1


def test_wrong_password_unknown_email_and_disabled_account_get_the_same_refusal(db, organization, owner):
    make_staff(db, organization, "gone@business.example", role="staff", active=False)
    clock = Clock()
    for email, password in (
        ("olivia@business.example", "Wrong-Password-1"),
        ("nobody@business.example", PASSWORD),
        ("gone@business.example", PASSWORD),
    ):
        with pytest.raises(SignInRefused):
            attempt(db, clock, email=email, password=password)
    assert audit_count(db, "staff_sign_in.failed") == 3


def test_the_fifth_failure_locks_the_staff_account_even_against_the_right_password(db, owner):
    clock = Clock()
    for _ in range(4):
        with pytest.raises(SignInRefused):
            attempt(db, clock, password="Wrong-Guess-123")
    with pytest.raises(SignInLocked) as locked:
        attempt(db, clock, password="Wrong-Guess-123")
    assert locked.value.until == clock() + timedelta(minutes=15)
    with pytest.raises(SignInLocked):
        attempt(db, clock, ip="10.0.0.2")  # the account is locked, from any address
    clock.advance(minutes=15)
    assert attempt(db, clock).principal.staff_user_id == owner
    assert audit_count(db, "staff_sign_in.locked") == 1
    assert audit_count(db, "staff_sign_in.refused_locked") == 1


def test_a_staff_lock_does_not_lock_a_customer_login_with_the_same_email(db, organization, owner):
    customer = make_client(db, organization)
    make_portal_user(db, customer, "olivia@business.example", "Customer-Horse-9")
    clock = Clock()
    for _ in range(5):
        with pytest.raises((SignInRefused, SignInLocked)):
            attempt(db, clock, password="Wrong-Guess-123", ip="10.0.0.9")
    issued = sign_in(
        db, email="olivia@business.example", password="Customer-Horse-9", ip_address="10.0.0.1", clock=clock
    )
    assert issued.principal.client_id == customer


def test_staff_and_customer_sessions_never_stand_in_for_each_other(db, organization, owner):
    customer = make_client(db, organization)
    make_portal_user(db, customer, "ann@client.example", "Customer-Horse-9")
    clock = Clock()
    staff_token = attempt(db, clock).token
    customer_token = sign_in(
        db, email="ann@client.example", password="Customer-Horse-9", ip_address="10.0.0.1", clock=clock
    ).token
    assert resolve_session(db, staff_token, clock=clock) is None
    assert resolve_staff_session(db, customer_token, clock=clock) is None
    sign_out_staff(db, customer_token, clock=clock)  # a customer's token is not the staff door's to end
    assert resolve_session(db, customer_token, clock=clock) is not None


def test_sign_out_and_time_outs_end_a_staff_session(db, owner):
    clock = Clock()
    laptop = attempt(db, clock).token
    phone = attempt(db, clock).token
    sign_out_staff(db, laptop, clock=clock)
    assert resolve_staff_session(db, laptop, clock=clock) is None
    assert resolve_staff_session(db, phone, clock=clock) is not None
    clock.advance(hours=2)
    assert resolve_staff_session(db, phone, clock=clock) is None
    assert resolve_staff_session(db, None) is None
    assert resolve_staff_session(db, "made-up") is None
    assert audit_count(db, "staff_sign_out") == 1


def test_a_disabled_account_loses_its_open_sessions(db, owner):
    clock = Clock()
    token = attempt(db, clock).token
    with db.transaction() as session:
        session.get_one(StaffUser, owner).is_active = False
    assert resolve_staff_session(db, token, clock=clock) is None


def test_only_the_owner_passes_require_owner(db, organization, owner):
    clock = Clock()
    make_staff(db, organization, "sam@business.example", role="staff")
    boss = attempt(db, clock).principal
    assert require_owner(boss) is boss
    helper = attempt(db, clock, email="sam@business.example").principal
    with pytest.raises(OwnerOnly) as refused:
        require_owner(helper)
    assert refused.value.role == "staff"
