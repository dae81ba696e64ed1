"""How long a refused sign-in takes says nothing about the e-mail: an unknown, disabled or not yet set-up
account costs the same bcrypt work as a wrong password for a real one, at the portal's bcrypt cost."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import update

from models import PortalUser, StaffUser
from services.auth import sign_in
from services.database import Database
from services.errors import SignInRefused
from services.passwords import hash_password
from services.staff_auth import sign_in_staff
from tests.factories import NOW, Clock, make_client, make_organization, make_portal_user

ROUNDS = 10  # about 60 ms of CPU a check here: well above the rest of a refusal's work
TRIES = 7
PASSWORD = "Correct-Horse-9"


def least_cpu_refusals(
    attempt: Callable[..., object], db: Database, known: str, other: str
) -> tuple[float, float]:
    """The least CPU time of ``TRIES`` refused sign-ins of ``known`` and of ``other`` with a wrong password,
    taken in turns. The work a refusal costs is what must not differ (the bcrypt check, done in this
    thread): CPU time counts it whatever else the machine runs, where wall time on a CI machine running
    browsers and portals beside the test varied by 40 ms either way. A missing stand-in hash would still
    show as a whole bcrypt check."""
    clock = Clock()
    durations: dict[str, list[float]] = {known: [], other: []}
    for _ in range(TRIES):
        for email in (known, other):
            clock.advance(hours=1)  # a new throttle window each time: no lock-out cuts a try short
            started = time.thread_time()
            with pytest.raises(SignInRefused):
                attempt(
                    db,
                    email=email,
                    password="Wrong-Battery-1",
                    ip_address="10.0.0.9",
                    clock=clock,
                    rounds=ROUNDS,
                )
            durations[email].append(time.thread_time() - started)
    return min(durations[known]), min(durations[other])


def assert_alike(known: float, other: float) -> None:
    assert abs(known - other) <= 0.25 * known, f"known {known * 1000:.1f} ms, other {other * 1000:.1f} ms"


@pytest.fixture
def customer(db: Database) -> int:
    client_id = make_client(db, make_organization(db))
    make_portal_user(db, client_id, "ann@client.example", PASSWORD, rounds=ROUNDS)
    make_portal_user(db, client_id, "off@client.example", PASSWORD, rounds=ROUNDS)
    make_portal_user(db, client_id, "invited@client.example", PASSWORD, rounds=ROUNDS)
    with db.transaction() as session:
        session.execute(
            update(PortalUser).where(PortalUser.email == "off@client.example").values(is_active=False)
        )
        session.execute(
            update(PortalUser).where(PortalUser.email == "invited@client.example").values(password_hash=None)
        )
    return client_id


@pytest.mark.parametrize("other", ["nobody@client.example", "off@client.example", "invited@client.example"])
def test_a_customer_sign_in_takes_as_long_for_an_unknown_disabled_or_invited_email(db, customer, other):
    assert_alike(*least_cpu_refusals(sign_in, db, "ann@client.example", other))


@pytest.mark.parametrize("other", ["nobody@acme.example", "off@acme.example"])
def test_a_staff_sign_in_takes_as_long_for_an_unknown_or_disabled_email(db, other):
    organization_id = make_organization(db)
    with db.transaction() as session:
        for email, active in (("owner@acme.example", True), ("off@acme.example", False)):
            session.add(
                StaffUser(
                    organization_id=organization_id,
                    name="Owner",
                    email=email,
                    password_hash=hash_password(PASSWORD, rounds=ROUNDS),
                    role="owner",
                    is_active=active,
                    created_at=NOW,
                )
            )

    assert_alike(*least_cpu_refusals(sign_in_staff, db, "owner@acme.example", other))
