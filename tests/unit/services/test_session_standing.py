"""Whether the session behind an open page still stands, by its token's hash; every way a session ends
moves its person's sessions topic; owner-only services ask again who the owner is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from models import PortalUser, StaffUser
from services.api_keys import create_api_key, revoke_api_key
from services.auth import IDLE_TIMEOUT, sign_in, sign_out, token_hash
from services.contacts import disable_contact
from services.errors import OwnerOnly
from services.events import Events, customer_sessions_topic, staff_sessions_topic
from services.password_change import change_password
from services.session_standing import customer_standing, staff_standing
from services.staff_accounts import change_staff_role, set_staff_active
from services.staff_auth import sign_in_staff, sign_out_staff
from tests.factories import NOW, Clock, make_client, make_organization, make_portal_user
from tests.unit.services.test_staff_auth import PASSWORD as STAFF_PASSWORD
from tests.unit.services.test_staff_auth import make_staff

PASSWORD = "Correct-Horse-9"
NEW_PASSWORD = "Quiet-Harbour-Lantern-47"


@pytest.fixture
def organization(db):
    return make_organization(db)


@pytest.fixture
def contact(db, organization):
    return make_portal_user(db, make_client(db, organization), "ann@client.example", PASSWORD)


def customer_session(db, clock, ip="10.0.0.1"):
    return sign_in(db, email="ann@client.example", password=PASSWORD, ip_address=ip, clock=clock)


def test_a_customer_session_stands_until_the_earlier_time_out(db, contact):
    clock = Clock()
    issued = customer_session(db, clock)

    standing = customer_standing(db, token_hash(issued.token), renew=False, clock=clock)

    assert standing is not None
    assert standing.ends_at == NOW + IDLE_TIMEOUT
    assert standing.role is None
    assert staff_standing(db, token_hash(issued.token), renew=False, clock=clock) is None  # not staff's
    assert customer_standing(db, token_hash("unknown"), renew=False, clock=clock) is None


def test_watching_a_session_does_not_keep_it_alive_but_acting_does(db, contact):
    clock = Clock()
    digest = token_hash(customer_session(db, clock).token)

    clock.advance(hours=1)
    assert customer_standing(db, digest, renew=False, clock=clock) is not None
    clock.advance(hours=1)
    assert customer_standing(db, digest, renew=False, clock=clock) is None  # two idle hours

    clock = Clock()
    digest = token_hash(customer_session(db, clock, ip="10.0.0.2").token)
    clock.advance(hours=1)
    acted = customer_standing(db, digest, renew=True, clock=clock)
    assert acted is not None
    clock.advance(hours=1)
    assert customer_standing(db, digest, renew=False, clock=clock) is not None


def test_a_signed_out_or_disabled_customers_session_no_longer_stands(db, contact):
    clock = Clock()
    first, second = customer_session(db, clock), customer_session(db, clock)
    sign_out(db, first.token, clock=clock)
    assert customer_standing(db, token_hash(first.token), renew=True, clock=clock) is None

    with db.transaction() as session:
        session.execute(update(PortalUser).where(PortalUser.id == contact).values(is_active=False))
    assert customer_standing(db, token_hash(second.token), renew=True, clock=clock) is None


def test_a_staff_session_tells_the_role_it_has_now(db, organization):
    clock = Clock()
    owner = make_staff(db, organization, "olivia@business.example")
    issued = sign_in_staff(
        db, email="olivia@business.example", password=STAFF_PASSWORD, ip_address="10.0.0.1", clock=clock
    )
    digest = token_hash(issued.token)
    standing = staff_standing(db, digest, renew=False, clock=clock)
    assert standing is not None
    assert standing.role == "owner"

    with db.transaction() as session:
        session.execute(update(StaffUser).where(StaffUser.id == owner).values(role="staff"))

    standing = staff_standing(db, digest, renew=False, clock=clock)
    assert standing is not None
    assert standing.role == "staff"
    assert customer_standing(db, digest, renew=False, clock=clock) is None


def test_every_way_a_customers_sessions_end_moves_their_sessions_topic(db, organization, contact):
    events, clock = Events(), Clock()
    topic = customer_sessions_topic(contact)
    laptop = customer_session(db, clock)

    sign_out(db, laptop.token, clock=clock, events=events)
    assert events.version(topic) == 1

    phone = customer_session(db, clock)
    change_password(
        db,
        phone.principal,
        PASSWORD,
        NEW_PASSWORD,
        NEW_PASSWORD,
        ip_address="",
        clock=clock,
        rounds=4,
        events=events,
    )
    assert events.version(topic) == 2

    with db.reading() as session:
        public_id = session.scalars(select(PortalUser.public_id).where(PortalUser.id == contact)).one()
    disable_contact(db, organization, public_id, clock=clock, events=events)
    assert events.version(topic) == 3


def test_every_way_a_staff_members_sessions_end_moves_their_sessions_topic(db, organization):
    events, clock = Events(), Clock()
    owner = make_staff(db, organization, "olivia@business.example")
    sam = make_staff(db, organization, "sam@business.example", role="staff")
    topic = staff_sessions_topic(sam)
    issued = sign_in_staff(
        db, email="sam@business.example", password=STAFF_PASSWORD, ip_address="10.0.0.1", clock=clock
    )
    with db.reading() as session:
        public_id = session.scalars(select(StaffUser.public_id).where(StaffUser.id == sam)).one()

    sign_out_staff(db, issued.token, clock=clock, events=events)
    assert events.version(topic) == 1
    change_staff_role(db, organization, public_id, "owner", changed_by=owner, clock=clock, events=events)
    assert events.version(topic) == 2
    set_staff_active(db, organization, public_id, False, changed_by=owner, clock=clock, events=events)
    assert events.version(topic) == 3


def test_only_an_active_owner_makes_or_revokes_api_keys(db, organization):
    owner = make_staff(db, organization, "olivia@business.example")
    demoted = make_staff(db, organization, "former@business.example", role="staff")
    gone = make_staff(db, organization, "gone@business.example", active=False)
    key = create_api_key(db, organization, "Books", staff_user_id=owner)

    for staff_user_id in (demoted, gone):
        with pytest.raises(OwnerOnly):
            create_api_key(db, organization, "Sneaky", staff_user_id=staff_user_id)
        with pytest.raises(OwnerOnly):
            revoke_api_key(db, organization, key.public_id, staff_user_id=staff_user_id)
    revoke_api_key(db, organization, key.public_id, staff_user_id=owner, clock=Clock(NOW + timedelta(1)))
