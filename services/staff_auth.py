"""Staff sign-in to the back office: the customers' session, time-out and throttling rules, kept apart.

A staff session is a ``LoginSession`` row with ``staff_user_id`` set (and no ``portal_user_id``), so
``services.auth.resolve_session`` never takes it for a customer's and ``resolve_staff_session`` never
takes a customer's for staff. Failed sign-ins count against the staff account under its own throttle
scope (an e-mail that is also a customer's login locks separately) and against the address, shared
with customer sign-ins, so guessing cannot switch doors to get more tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import LoginSession, StaffUser
from services.audit import record_event
from services.auth import (
    ABSOLUTE_TIMEOUT,
    end_session,
    keep_alive,
    new_session_token,
    normalize_email,
    token_hash,
)
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import OwnerOnly, SignInLocked
from services.events import Events
from services.passwords import DEFAULT_ROUNDS, verify_password
from services.second_step import SecondStepRequired, open_second_step
from services.sign_in_throttle import claim_attempt, count_failed_sign_in, release_attempt, reset_throttle

OWNER = "owner"
STAFF = "staff"
ROLES = (OWNER, STAFF)

ACCOUNT_SCOPE = "staff_account"  # LoginThrottle.scope for staff e-mails; "address" is shared

SIGNED_IN = "staff_sign_in.succeeded"
FAILED = "staff_sign_in.failed"
LOCKED = "staff_sign_in.locked"
REFUSED_LOCKED = "staff_sign_in.refused_locked"
SIGNED_OUT = "staff_sign_out"


@dataclass(frozen=True)
class StaffPrincipal:
    """Who is signed in to the back office."""

    staff_user_id: int
    organization_id: int
    name: str
    email: str
    role: str  # owner | staff
    session_id: int
    language: str = ""  # their own choice for the back office; "" for their browser's
    time_zone: str = ""  # their own choice; "" for the business's

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


@dataclass(frozen=True)
class IssuedStaffSession:
    token: str  # goes into the admin cookie, nowhere else
    principal: StaffPrincipal
    expires_at: datetime


OWNER_ONLY_MESSAGE = "Only the owner of the business can open this page."


def require_owner(principal: StaffPrincipal) -> StaffPrincipal:
    """``principal`` if it is the owner's; raises ``OwnerOnly`` for any other role."""
    if not principal.is_owner:
        raise OwnerOnly(principal.staff_user_id, principal.role)
    return principal


def require_active_owner(user: StaffUser) -> None:
    """Raise ``OwnerOnly`` unless this staff account, as just read, is an active owner's.

    An owner-only service reads the staff member again in its own transaction: the page that asks
    was drawn for an owner, who may have been made staff or disabled since.
    """
    if not user.is_active or user.role != OWNER:
        raise OwnerOnly(user.id, user.role if user.is_active else "disabled")


def sign_in_staff(
    db: Database,
    *,
    email: str,
    password: str,
    ip_address: str,
    user_agent: str = "",
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
) -> IssuedStaffSession:
    """Check a staff password and open a new back-office session.

    Raises ``SignInRefused`` (unknown e-mail, wrong password, disabled account: one answer for all,
    after the same bcrypt work, of cost ``rounds`` for an unknown e-mail) or ``SignInLocked`` while
    the account or the address is locked after repeated failures.
    A right password raises ``SecondStepRequired`` instead for a staff member with two-factor sign-in
    on, or without it where the business requires it (``services.second_step``).
    """
    email = normalize_email(email)[:254]
    keys = ((ACCOUNT_SCOPE, email), ("address", ip_address))
    locked_until = claim_attempt(
        db, keys, email=email, ip_address=ip_address, clock=clock, lock_action=LOCKED
    )
    if locked_until is not None:
        with db.transaction() as session:
            record_event(session, REFUSED_LOCKED, at=clock(), ip_address=ip_address, details={"email": email})
        raise SignInLocked(locked_until)
    with db.reading() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.email == email)).one_or_none()
        password_hash = user.password_hash if user is not None else None
    # bcrypt takes a quarter of a second on purpose; no transaction is held open meanwhile. It runs for
    # every e-mail, unknown or disabled too, so how long the answer takes does not tell them apart.
    matches = verify_password(password, password_hash, rounds=rounds)
    if user is None or not user.is_active or not matches:
        raise count_failed_sign_in(
            db,
            keys,
            email=email,
            ip_address=ip_address,
            clock=clock,
            action=FAILED,
            lock_action=LOCKED,
            staff_user_id=user.id if user else None,
            claimed=True,
        )
    release_attempt(db, keys, clock=clock)
    second_step = open_second_step(db, staff_user_id=user.id, ip_address=ip_address, clock=clock)
    if second_step is not None:  # a code, or setting two-factor sign-in up, comes first
        raise SecondStepRequired(second_step)
    with db.transaction() as session:
        return open_staff_session(session, user, ip_address=ip_address, user_agent=user_agent, now=clock())


def open_staff_session(
    session: Session, user: StaffUser, *, ip_address: str, user_agent: str, now: datetime
) -> IssuedStaffSession:
    """Open a back-office session for a staff member who proved who they are; the only way one starts.

    Forgets the account's failed sign-ins and records ``staff_sign_in.succeeded``.
    """
    token = new_session_token()
    reset_throttle(session, ACCOUNT_SCOPE, user.email)
    login = LoginSession(
        token_hash=token_hash(token),
        staff_user_id=user.id,
        ip_address=ip_address[:45],
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
    )
    session.add(login)
    session.execute(update(StaffUser).where(StaffUser.id == user.id).values(last_login_at=now))
    session.flush()
    record_event(session, SIGNED_IN, at=now, staff_user_id=user.id, ip_address=ip_address)
    return IssuedStaffSession(token, _principal(user, login.id), login.expires_at)


def resolve_staff_session(
    db: Database, token: str | None, *, clock: Clock = utc_now
) -> StaffPrincipal | None:
    """The staff member signed in with a cookie token; None if unknown, revoked, timed out or a customer's."""
    if not token:
        return None
    now = clock()
    with db.reading() as session:
        row = session.execute(
            select(LoginSession, StaffUser)
            .join(StaffUser, StaffUser.id == LoginSession.staff_user_id)
            .where(LoginSession.token_hash == token_hash(token), LoginSession.portal_user_id.is_(None))
        ).one_or_none()
    if row is None:
        return None
    login, user = row
    if not user.is_active or not keep_alive(db, login, now):
        return None
    return _principal(user, login.id)


def sign_out_staff(
    db: Database,
    token: str | None,
    *,
    ip_address: str = "",
    clock: Clock = utc_now,
    events: Events | None = None,
) -> None:
    """Revoke the back-office session of this token; a customer's token is left alone."""
    end_session(db, token, staff=True, action=SIGNED_OUT, ip_address=ip_address, clock=clock, events=events)


def _principal(user: StaffUser, session_id: int) -> StaffPrincipal:
    return StaffPrincipal(
        user.id,
        user.organization_id,
        user.name,
        user.email,
        user.role,
        session_id,
        language=user.language,
        time_zone=user.time_zone,
    )
