"""The owner manages staff accounts: add with a strong initial password, disable and enable, change roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, LoginSession
from services.errors import InvalidDetails, NotFound, SignInRefused
from services.staff_accounts import (
    CannotChangeYourself,
    LastActiveOwner,
    NewStaff,
    StaffEmailTaken,
    add_staff,
    change_staff_role,
    list_staff,
    set_staff_active,
)
from services.staff_auth import resolve_staff_session, sign_in_staff
from tests.factories import NOW, Clock, make_organization
from tests.unit.services.test_staff_auth import make_staff

STRONG = "Ledger-Orchard-Copper-58"


@pytest.fixture
def organization(db):
    return make_organization(db)


@pytest.fixture
def owner(db, organization):
    return make_staff(db, organization, "olivia@business.example")


def new(email="sam@business.example", *, role="staff", password=STRONG, confirm=None, name="Sam Counter"):
    return NewStaff(
        name=name, email=email, role=role, password=password, confirm=password if confirm is None else confirm
    )


def public_id(db, organization, email):
    return next(account.public_id for account in list_staff(db, organization) if account.email == email)


def audit_actions(db):
    with db.reading() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_added_staff_member_signs_in_with_the_initial_password(db, organization, owner):
    added = add_staff(
        db, organization, new(email=" Sam@Business.example "), added_by=owner, clock=Clock(), rounds=4
    )

    assert (added.name, added.email, added.role, added.is_active) == (
        "Sam Counter",
        "sam@business.example",
        "staff",
        True,
    )
    issued = sign_in_staff(
        db, email="sam@business.example", password=STRONG, ip_address="10.0.0.1", clock=Clock()
    )
    assert issued.principal.role == "staff"
    assert "staff.added" in audit_actions(db)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"email": "not an address"}, "email"),
        ({"role": "admin"}, "role"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"confirm": "Ledger-Orchard-Copper-59"}, "confirm"),
    ],
)
def test_a_wrong_field_is_named_and_nothing_is_added(db, organization, owner, change, field):
    values = {
        "email": "sam@business.example",
        "role": "staff",
        "password": STRONG,
        "confirm": None,
        "name": "Sam",
    }
    values.update(change)
    with pytest.raises(InvalidDetails) as refused:
        add_staff(
            db,
            organization,
            new(
                values["email"],
                role=values["role"],
                password=values["password"],
                confirm=values["confirm"],
                name=values["name"],
            ),
            added_by=owner,
            rounds=4,
        )
    assert field in refused.value.errors
    assert len(list_staff(db, organization)) == 1


def test_the_password_may_not_be_the_new_members_name_or_address(db, organization, owner):
    with pytest.raises(InvalidDetails) as refused:
        add_staff(db, organization, new(password="sam@business.example"), added_by=owner, rounds=4)
    assert "e-mail address or your name" in refused.value.errors["password"]


def test_an_address_that_already_has_a_staff_account_is_refused(db, organization, owner):
    other_business = make_organization(db, "Other Business")
    make_staff(db, other_business, "sam@business.example", role="staff")

    with pytest.raises(StaffEmailTaken) as refused:
        add_staff(db, organization, new(email="SAM@business.example"), added_by=owner, rounds=4)

    assert "already has a staff account" in refused.value.errors["email"]
    assert len(list_staff(db, organization)) == 1


def test_disabling_ends_every_open_session_and_stops_sign_in(db, organization, owner):
    make_staff(db, organization, "sam@business.example", role="staff")
    clock = Clock()
    issued = [
        sign_in_staff(
            db, email="sam@business.example", password="Staff-Horse-Battery-9", ip_address=ip, clock=clock
        )
        for ip in ("10.0.0.1", "10.0.0.2")
    ]

    disabled = set_staff_active(
        db,
        organization,
        public_id(db, organization, "sam@business.example"),
        False,
        changed_by=owner,
        clock=clock,
    )

    assert disabled.is_active is False
    assert all(resolve_staff_session(db, session.token, clock=clock) is None for session in issued)
    with db.reading() as session:
        assert all(login.revoked_at == NOW for login in session.scalars(select(LoginSession)))
    with pytest.raises(SignInRefused):
        sign_in_staff(
            db,
            email="sam@business.example",
            password="Staff-Horse-Battery-9",
            ip_address="10.0.0.3",
            clock=clock,
        )
    assert "staff.disabled" in audit_actions(db)


def test_an_enabled_account_signs_in_again(db, organization, owner):
    make_staff(db, organization, "sam@business.example", role="staff", active=False)
    sam = public_id(db, organization, "sam@business.example")

    assert set_staff_active(db, organization, sam, True, changed_by=owner).is_active is True
    sign_in_staff(
        db,
        email="sam@business.example",
        password="Staff-Horse-Battery-9",
        ip_address="10.0.0.1",
        clock=Clock(),
    )
    assert "staff.enabled" in audit_actions(db)


def test_nobody_disables_themselves(db, organization, owner):
    make_staff(db, organization, "second@business.example")  # another owner exists

    with pytest.raises(CannotChangeYourself):
        set_staff_active(
            db, organization, public_id(db, organization, "olivia@business.example"), False, changed_by=owner
        )

    assert all(account.is_active for account in list_staff(db, organization))


def test_the_last_active_owner_can_be_neither_disabled_nor_made_staff(db, organization, owner):
    second = make_staff(db, organization, "second@business.example")
    olivia = public_id(db, organization, "olivia@business.example")
    make_staff(db, organization, "gone@business.example", active=False)  # a disabled owner does not count

    set_staff_active(
        db, organization, public_id(db, organization, "second@business.example"), False, changed_by=owner
    )
    with pytest.raises(LastActiveOwner):
        change_staff_role(db, organization, olivia, "staff", changed_by=second)
    with pytest.raises(LastActiveOwner):
        set_staff_active(db, organization, olivia, False, changed_by=second)

    account = next(a for a in list_staff(db, organization) if a.public_id == olivia)
    assert (account.role, account.is_active) == ("owner", True)


def test_a_role_changes_both_ways_and_is_audited(db, organization, owner):
    make_staff(db, organization, "sam@business.example", role="staff")
    sam = public_id(db, organization, "sam@business.example")

    assert change_staff_role(db, organization, sam, "owner", changed_by=owner).role == "owner"
    assert change_staff_role(db, organization, sam, "staff", changed_by=owner).role == "staff"
    assert audit_actions(db).count("staff.role_changed") == 2
    with pytest.raises(CannotChangeYourself):
        change_staff_role(
            db,
            organization,
            public_id(db, organization, "olivia@business.example"),
            "staff",
            changed_by=owner,
        )


def test_another_business_staff_is_not_found(db, organization, owner):
    other = make_organization(db, "Other Business")
    make_staff(db, other, "theirs@other.example", role="staff")
    theirs = public_id(db, other, "theirs@other.example")

    with pytest.raises(NotFound):
        set_staff_active(db, organization, theirs, False, changed_by=owner)
    with pytest.raises(NotFound):
        change_staff_role(db, organization, theirs, "owner", changed_by=owner)
