"""The second step of a sign-in: after the right password, no session yet for whom it is not enough.

A customer or staff member with two-factor sign-in on, and a staff member whose business requires it
but who has not set it up, get a challenge instead of a session: a random token for a cookie of the
browser that gave the password (only its SHA-256 is stored), valid for 5 minutes (15 to set
two-factor sign-in up), spent by the session it leads to. ``services.two_factor`` takes it from there.

This module only opens challenges, so that ``services.auth`` and ``services.staff_auth`` can call it
without importing what imports them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from models import Organization, SignInChallenge, StaffUser, TwoFactorCredential
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database

VERIFY = "verify"  # enter a code from the app, or a recovery code
SETUP = "setup"  # set two-factor sign-in up first (a staff member the owner requires it of)
VERIFY_VALIDITY = timedelta(minutes=5)
SETUP_VALIDITY = timedelta(minutes=15)  # scanning a code and putting recovery codes away takes longer

ISSUED = "sign_in.second_step_issued"


@dataclass(frozen=True)
class IssuedChallenge:
    token: str  # goes into a cookie of the browser that gave the password, nowhere else
    purpose: str  # verify | setup
    expires_at: datetime


class SecondStepRequired(Exception):
    """The password was right, but no session is issued until ``challenge`` is finished."""

    def __init__(self, challenge: IssuedChallenge) -> None:
        super().__init__(f"second step required: {challenge.purpose}")
        self.challenge = challenge


def challenge_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_second_step(
    db: Database,
    *,
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
    ip_address: str,
    clock: Clock = utc_now,
) -> IssuedChallenge | None:
    """A challenge for this customer (or staff member) whose password was right; None when the
    password is enough. Their earlier challenges that ended are removed."""
    now = clock()
    with db.transaction() as session:
        purpose = second_step_purpose(session, portal_user_id=portal_user_id, staff_user_id=staff_user_id)
        if purpose is None:
            return None
        owner = (
            SignInChallenge.portal_user_id == portal_user_id
            if portal_user_id is not None
            else SignInChallenge.staff_user_id == staff_user_id
        )
        session.execute(
            delete(SignInChallenge).where(
                owner, or_(SignInChallenge.used_at.is_not(None), SignInChallenge.expires_at <= now)
            )
        )
        token = secrets.token_urlsafe(32)
        expires_at = now + (SETUP_VALIDITY if purpose == SETUP else VERIFY_VALIDITY)
        session.add(
            SignInChallenge(
                token_hash=challenge_hash(token),
                portal_user_id=portal_user_id,
                staff_user_id=staff_user_id,
                purpose=purpose,
                ip_address=ip_address[:45],
                created_at=now,
                expires_at=expires_at,
            )
        )
        record_event(
            session,
            ISSUED,
            at=now,
            portal_user_id=portal_user_id,
            staff_user_id=staff_user_id,
            ip_address=ip_address,
            details={"purpose": purpose},
        )
    return IssuedChallenge(token, purpose, expires_at)


def second_step_purpose(
    session: Session, *, portal_user_id: int | None = None, staff_user_id: int | None = None
) -> str | None:
    """``verify`` for someone with two-factor sign-in on; ``setup`` for a staff member without it
    whose business requires it; None when a password is enough."""
    owner = (
        TwoFactorCredential.portal_user_id == portal_user_id
        if portal_user_id is not None
        else TwoFactorCredential.staff_user_id == staff_user_id
    )
    confirmed = session.scalar(
        select(TwoFactorCredential.id).where(owner, TwoFactorCredential.confirmed_at.is_not(None))
    )
    if confirmed is not None:
        return VERIFY
    if staff_user_id is not None:
        required = session.scalar(
            select(Organization.require_staff_two_factor)
            .join(StaffUser, StaffUser.organization_id == Organization.id)
            .where(StaffUser.id == staff_user_id)
        )
        if required:
            return SETUP
    return None
