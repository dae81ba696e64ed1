"""Two-factor sign-in: an authenticator app's codes (TOTP, RFC 6238) and ten single-use recovery codes.

Customers and staff turn it on themselves: a QR code of an ``otpauth://`` URI with the business's name
as issuer, confirmed with a current code; then ten recovery codes are shown once. The app's secret is
stored sealed under the portal's secret key (``models.sealed``), a recovery code only as a salted
SHA-256. A code is accepted for its 30-second step and one step either side (clock drift), and never
twice: the last step used is remembered per person, and a code of that step or an earlier one is
refused.

At sign-in, a right password opens a challenge (``services.second_step``); ``verify_second_step``
and ``verify_staff_second_step`` turn it and a right code into a session. A wrong code counts towards
the sign-in lock-out exactly as a wrong password does, per account and per address. The owner can
require two-factor sign-in of all staff: a staff member without it then sets it up between the
password and the back office (``start_required_setup``, ``confirm_required_setup``,
``finish_required_setup``).

A lost device: a recovery code, or the business resets it (a customer's from the client's page, a
staff member's by the owner). Every change is an audit event.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql.elements import ColumnElement

from models import (
    Client,
    LoginSession,
    Organization,
    PortalUser,
    RecoveryCode,
    SignInChallenge,
    StaffUser,
    TwoFactorCredential,
)
from models.sealed import SecretUnreadable
from services.audit import record_event
from services.auth import IssuedSession, open_session
from services.clock import Clock, utc_now
from services.database import Database
from services.dates import format_moment
from services.errors import (
    NotFound,
    OwnTwoFactorFirst,
    OwnTwoFactorReset,
    SecondStepExpired,
    SignInLocked,
    TwoFactorAlreadyOn,
    TwoFactorNotOn,
    TwoFactorRequired,
    WrongTwoFactorCode,
    WrongTwoFactorProof,
)
from services.events import Events, staff_sessions_topic
from services.i18n import N_, _, formatting_locale, using_language
from services.outbox import queue_email
from services.passwords import verify_password
from services.principal import Principal
from services.second_step import SETUP, VERIFY, challenge_hash
from services.sign_in_throttle import claim_attempt, count_failed_sign_in, release_attempt
from services.staff_auth import (
    ACCOUNT_SCOPE,
    IssuedStaffSession,
    StaffPrincipal,
    open_staff_session,
    require_owner,
)

DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after the current one is accepted too
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/i/l: read off paper without doubt
RECOVERY_CODE_LENGTH = 10  # shown as xxxxx-xxxxx; about 50 bits each
MAX_CHALLENGE_FAILURES = 5  # then the challenge is spent, whatever the throttle says

ENABLED = "two_factor.enabled"
DISABLED = "two_factor.disabled"
CODES_REGENERATED = "two_factor.recovery_codes_regenerated"
RESET = "two_factor.reset"
RECOVERY_CODE_USED = "two_factor.recovery_code_used"
WRONG_PROOF = "two_factor.wrong_proof"
CUSTOMER_CODE_FAILED = "sign_in.two_factor_failed"
STAFF_CODE_FAILED = "staff_sign_in.two_factor_failed"
STAFF_REQUIRED = "staff_two_factor.required"
STAFF_NOT_REQUIRED = "staff_two_factor.not_required"


@dataclass(frozen=True)
class TotpSetup:
    """What the set-up page shows: the QR code of ``uri`` and the same secret as text."""

    secret: str  # base32, for typing into an app that cannot scan
    uri: str  # otpauth://totp/<issuer>:<email>?secret=...&issuer=<issuer>
    qr_data_url: str  # an SVG data URL of the QR code of ``uri``, drawn here (no outside service)
    issuer: str  # the business's name
    account: str  # the e-mail address signed in with

    @property
    def secret_in_groups(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class RecoveryCodes:
    codes: tuple[str, ...]  # shown once, never again


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int
    required: bool  # a staff member whose business requires it (so it cannot be turned off)


@dataclass(frozen=True)
class ChallengeInfo:
    """A second step still to finish, for its page."""

    purpose: str  # verify | setup
    email: str
    expires_at: datetime
    verified: bool  # setup: the code was confirmed; what is left is to continue


@dataclass(frozen=True)
class _Holder:
    """Whose credential: a customer login or a staff account."""

    portal_user_id: int | None = None
    staff_user_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.staff_user_id is not None

    def owns_credential(self) -> ColumnElement[bool]:
        if self.portal_user_id is not None:
            return TwoFactorCredential.portal_user_id == self.portal_user_id
        return TwoFactorCredential.staff_user_id == self.staff_user_id

    def describe(self) -> str:
        return (
            f"customer {self.portal_user_id}"
            if self.portal_user_id is not None
            else f"staff {self.staff_user_id}"
        )


def _holder(who: Principal | StaffPrincipal) -> _Holder:
    if isinstance(who, StaffPrincipal):
        return _Holder(staff_user_id=who.staff_user_id)
    return _Holder(portal_user_id=who.portal_user_id)


# --- turning it on and off, by the person themselves --------------------------------------------------


def two_factor_status(db: Database, who: Principal | StaffPrincipal) -> TwoFactorStatus:
    """Whether ``who`` has two-factor sign-in on, since when, and how many recovery codes are left."""
    holder = _holder(who)
    with db.reading() as session:
        credential = _confirmed(session, holder)
        required = holder.is_staff and _staff_required(session, holder)
        if credential is None:
            return TwoFactorStatus(False, None, 0, required)
        return TwoFactorStatus(True, credential.confirmed_at, _codes_left(session, credential.id), required)


def begin_setup(db: Database, who: Principal | StaffPrincipal, *, clock: Clock = utc_now) -> TotpSetup:
    """A new secret for ``who`` to scan; nothing changes at sign-in until ``confirm_setup``.

    A set-up begun earlier and not confirmed is replaced. Raises ``TwoFactorAlreadyOn``.
    """
    with db.transaction() as session:
        return _begin(session, _holder(who), clock())


def confirm_setup(
    db: Database, who: Principal | StaffPrincipal, code: str, *, ip_address: str = "", clock: Clock = utc_now
) -> RecoveryCodes:
    """Turn two-factor sign-in on once ``code`` matches the secret of ``begin_setup``; returns the
    recovery codes, the only time they are seen. Raises ``WrongTwoFactorCode`` (nothing changes;
    the person is signed in and typing what they just scanned, so it is not counted as a failed
    sign-in), ``TwoFactorAlreadyOn``, or ``NotFound`` when no set-up was begun."""
    with db.transaction() as session:
        return _confirm(session, _holder(who), code, ip_address=ip_address, now=clock())


def disable_two_factor(
    db: Database,
    who: Principal | StaffPrincipal,
    proof: str,
    *,
    ip_address: str,
    clock: Clock = utc_now,
) -> None:
    """Turn two-factor sign-in off, given a current code or the password.

    A wrong ``proof`` counts as a failed sign-in (``WrongTwoFactorProof``, or ``SignInLocked`` once it
    locks the account); ``TwoFactorRequired`` for a staff member whose business requires it.
    """
    holder = _holder(who)
    with db.reading() as session:
        if holder.is_staff and _staff_required(session, holder):
            raise TwoFactorRequired()
    _prove(db, holder, proof, ip_address=ip_address, clock=clock)
    now = clock()
    with db.transaction() as session:
        if holder.is_staff and _staff_required(session, holder):
            raise TwoFactorRequired()
        credential = _confirmed(session, holder, lock=True)
        if credential is None:
            raise TwoFactorNotOn()
        _remove(session, credential)
        _record(session, DISABLED, holder, at=now, ip_address=ip_address)
        _notify_customer(session, holder.portal_user_id, DISABLED, now)


def regenerate_recovery_codes(
    db: Database,
    who: Principal | StaffPrincipal,
    proof: str,
    *,
    ip_address: str,
    clock: Clock = utc_now,
) -> RecoveryCodes:
    """Ten new recovery codes in place of the old ones (used or not), given a current code or the
    password; a wrong ``proof`` counts as a failed sign-in, as in ``disable_two_factor``."""
    holder = _holder(who)
    _prove(db, holder, proof, ip_address=ip_address, clock=clock)
    now = clock()
    with db.transaction() as session:
        credential = _confirmed(session, holder, lock=True)
        if credential is None:
            raise TwoFactorNotOn()
        codes = _new_recovery_codes(session, credential, now)
        _record(session, CODES_REGENERATED, holder, at=now, ip_address=ip_address)
        _notify_customer(session, holder.portal_user_id, CODES_REGENERATED, now)
        return codes


# --- the business: resets and the requirement for staff -----------------------------------------------


def contacts_with_two_factor(db: Database, organization_id: int, client_public_id: str) -> frozenset[str]:
    """The public ids of a client's contacts who have two-factor sign-in on."""
    with db.reading() as session:
        return frozenset(
            session.scalars(
                select(PortalUser.public_id)
                .join(Client, Client.id == PortalUser.client_id)
                .join(TwoFactorCredential, TwoFactorCredential.portal_user_id == PortalUser.id)
                .where(
                    Client.organization_id == organization_id,
                    Client.public_id == client_public_id,
                    TwoFactorCredential.confirmed_at.is_not(None),
                )
            )
        )


def reset_contact_two_factor(
    db: Database,
    organization_id: int,
    contact_public_id: str,
    *,
    staff_user_id: int,
    clock: Clock = utc_now,
) -> None:
    """Turn off a customer contact's two-factor sign-in for them (a lost device), as the business.

    Their password signs them in alone again, and they can set it up anew. Raises ``NotFound`` for a
    contact of another business and ``TwoFactorNotOn``.
    """
    now = clock()
    with db.transaction() as session:
        row = session.execute(
            select(PortalUser.id, PortalUser.client_id)
            .join(Client, Client.id == PortalUser.client_id)
            .where(Client.organization_id == organization_id, PortalUser.public_id == contact_public_id)
        ).one_or_none()
        if row is None:
            raise NotFound("contact", contact_public_id)
        credential = _confirmed(session, _Holder(portal_user_id=row.id), lock=True)
        if credential is None:
            raise TwoFactorNotOn()
        _remove(session, credential)
        record_event(
            session,
            RESET,
            at=now,
            portal_user_id=row.id,
            staff_user_id=staff_user_id,
            client_id=row.client_id,
            details={"by": "business"},
        )
        _notify_customer(session, row.id, RESET, now)


def staff_with_two_factor(db: Database, organization_id: int) -> frozenset[str]:
    """The public ids of the business's staff accounts that have two-factor sign-in on."""
    with db.reading() as session:
        return frozenset(
            session.scalars(
                select(StaffUser.public_id)
                .join(TwoFactorCredential, TwoFactorCredential.staff_user_id == StaffUser.id)
                .where(
                    StaffUser.organization_id == organization_id,
                    TwoFactorCredential.confirmed_at.is_not(None),
                )
            )
        )


def staff_two_factor_required(db: Database, organization_id: int) -> bool:
    with db.reading() as session:
        return bool(
            session.scalar(
                select(Organization.require_staff_two_factor).where(Organization.id == organization_id)
            )
        )


def reset_staff_two_factor(
    db: Database,
    owner: StaffPrincipal,
    staff_public_id: str,
    *,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> None:
    """The owner turns off a staff member's two-factor sign-in (a lost device).

    Where the business requires it, that staff member's sessions end and the next sign-in sets it up
    anew (their open pages hear of it through ``events``). Raises ``OwnerOnly``, ``NotFound``,
    ``OwnTwoFactorReset`` and ``TwoFactorNotOn``.
    """
    require_owner(owner)
    now = clock()
    with db.transaction() as session:
        user = session.scalars(
            select(StaffUser).where(
                StaffUser.organization_id == owner.organization_id, StaffUser.public_id == staff_public_id
            )
        ).one_or_none()
        if user is None:
            raise NotFound("staff user", staff_public_id)
        if user.id == owner.staff_user_id:
            raise OwnTwoFactorReset()
        holder = _Holder(staff_user_id=user.id)
        credential = _confirmed(session, holder, lock=True)
        if credential is None:
            raise TwoFactorNotOn()
        _remove(session, credential)
        ended = _end_staff_sessions(session, [user.id], now) if _staff_required(session, holder) else 0
        record_event(
            session,
            RESET,
            at=now,
            staff_user_id=owner.staff_user_id,
            subject=("staff_user", user.id),
            details={"by": "owner", "sessions_ended": ended},
        )
        staff_user_id = user.id
    if ended and events is not None:
        events.publish(staff_sessions_topic(staff_user_id))


def require_staff_two_factor(
    db: Database,
    owner: StaffPrincipal,
    required: bool,
    *,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> int:
    """Require (or stop requiring) two-factor sign-in of every staff member; returns how many
    sessions ended.

    Requiring it ends the sessions of the staff without it: each sets it up at the next sign-in,
    before any back-office page opens; their open pages hear of it through ``events`` and leave. The
    owner must have it on first (``OwnTwoFactorFirst``), so
    the owner is never the one sent away. Raises ``OwnerOnly``.
    """
    require_owner(owner)
    now = clock()
    with db.transaction() as session:
        organization = session.scalars(
            select(Organization).where(Organization.id == owner.organization_id).with_for_update()
        ).one()
        if required and _confirmed(session, _Holder(staff_user_id=owner.staff_user_id)) is None:
            raise OwnTwoFactorFirst()
        if organization.require_staff_two_factor == required:
            return 0
        organization.require_staff_two_factor = required
        ended = 0
        without: list[int] = []
        if required:
            without = list(
                session.scalars(
                    select(StaffUser.id)
                    .outerjoin(
                        TwoFactorCredential,
                        (TwoFactorCredential.staff_user_id == StaffUser.id)
                        & TwoFactorCredential.confirmed_at.is_not(None),
                    )
                    .where(StaffUser.organization_id == organization.id, TwoFactorCredential.id.is_(None))
                )
            )
            ended = _end_staff_sessions(session, without, now)
        record_event(
            session,
            STAFF_REQUIRED if required else STAFF_NOT_REQUIRED,
            at=now,
            staff_user_id=owner.staff_user_id,
            details={"sessions_ended": ended},
        )
    if events is not None:
        for staff_user_id in without:
            events.publish(staff_sessions_topic(staff_user_id))
    return ended


# --- the second step of a sign-in ---------------------------------------------------------------------


def challenge_info(
    db: Database, token: str | None, *, staff: bool, clock: Clock = utc_now
) -> ChallengeInfo | None:
    """The second step this browser's ``token`` stands for; None when there is none to finish."""
    if not token:
        return None
    with db.reading() as session:
        found = _live_challenge(session, token, staff=staff, now=clock())
        if found is None:
            return None
        challenge, email = found
        return ChallengeInfo(
            challenge.purpose, email, challenge.expires_at, challenge.verified_at is not None
        )


def verify_second_step(
    db: Database,
    token: str | None,
    code: str,
    *,
    ip_address: str,
    user_agent: str = "",
    clock: Clock = utc_now,
) -> IssuedSession:
    """Finish a customer's sign-in with a code from the app or a recovery code: a new session.

    Raises ``SecondStepExpired`` (sign in again), ``SignInLocked`` while the account or address is
    locked, and ``WrongTwoFactorCode``, which counts as a failed sign-in (the failure that reaches
    the limit raises ``SignInLocked`` instead).
    """
    user_id = _verify(db, token, code, staff=False, ip_address=ip_address, clock=clock)
    with db.transaction() as session:
        user = session.get_one(PortalUser, user_id)
        return open_session(session, user, ip_address=ip_address, user_agent=user_agent, now=clock())


def verify_staff_second_step(
    db: Database,
    token: str | None,
    code: str,
    *,
    ip_address: str,
    user_agent: str = "",
    clock: Clock = utc_now,
) -> IssuedStaffSession:
    """``verify_second_step`` for the back office: a new staff session."""
    user_id = _verify(db, token, code, staff=True, ip_address=ip_address, clock=clock)
    with db.transaction() as session:
        user = session.get_one(StaffUser, user_id)
        return open_staff_session(session, user, ip_address=ip_address, user_agent=user_agent, now=clock())


def start_required_setup(db: Database, token: str | None, *, clock: Clock = utc_now) -> TotpSetup:
    """The set-up a staff member whose business requires two-factor sign-in does before their session.

    Raises ``SecondStepExpired`` when ``token`` is no such challenge.
    """
    now = clock()
    with db.transaction() as session:
        challenge = _setup_challenge(session, token, now)
        if challenge.verified_at is not None:
            raise SecondStepExpired()
        return _begin(session, _Holder(staff_user_id=challenge.staff_user_id), now)


def confirm_required_setup(
    db: Database, token: str | None, code: str, *, ip_address: str = "", clock: Clock = utc_now
) -> RecoveryCodes:
    """Confirm that set-up with a current code; returns the recovery codes, shown once. The session
    follows with ``finish_required_setup``."""
    now = clock()
    with db.transaction() as session:
        challenge = _setup_challenge(session, token, now)
        if challenge.verified_at is not None:
            raise SecondStepExpired()
        codes = _confirm(
            session, _Holder(staff_user_id=challenge.staff_user_id), code, ip_address=ip_address, now=now
        )
        challenge.verified_at = now
        return codes


def finish_required_setup(
    db: Database, token: str | None, *, ip_address: str, user_agent: str = "", clock: Clock = utc_now
) -> IssuedStaffSession:
    """The staff session after a confirmed set-up; the challenge is spent."""
    now = clock()
    with db.transaction() as session:
        challenge = _setup_challenge(session, token, now)
        if challenge.verified_at is None or not _spend(session, challenge, now):
            raise SecondStepExpired()
        user = session.get_one(StaffUser, challenge.staff_user_id)
        return open_staff_session(session, user, ip_address=ip_address, user_agent=user_agent, now=now)


# --- the parts ----------------------------------------------------------------------------------------


def _verify(db: Database, token: str | None, code: str, *, staff: bool, ip_address: str, clock: Clock) -> int:
    """Check a second-step code; returns the user's id with the challenge spent, or raises."""
    now = clock()
    with db.reading() as session:
        found = _live_challenge(session, token, staff=staff, now=now) if token else None
        if found is None or found[0].purpose != VERIFY:
            raise SecondStepExpired()
        challenge, email = found
        holder = _Holder(portal_user_id=challenge.portal_user_id, staff_user_id=challenge.staff_user_id)
        keys = _throttle_keys(holder, email, ip_address)
    locked_until = claim_attempt(
        db, keys, email=email, ip_address=ip_address, clock=clock, lock_action=_lock_action(holder)
    )
    if locked_until is not None:
        raise SignInLocked(locked_until)
    user_id: int | None = None
    try:
        with db.transaction() as session:
            challenge = session.scalars(
                select(SignInChallenge).where(SignInChallenge.id == challenge.id).with_for_update()
            ).one()
            if challenge.used_at is not None:
                raise SecondStepExpired()
            credential = _confirmed(session, holder)
            if credential is None:  # turned off or reset since the password: sign in again
                raise SecondStepExpired()
            if _accept_code(session, credential, code, now, ip_address=ip_address, holder=holder):
                _spend(session, challenge, now)
                user_id = challenge.portal_user_id or challenge.staff_user_id
            else:
                challenge.failures += 1
                if challenge.failures >= MAX_CHALLENGE_FAILURES:
                    challenge.used_at = now
    except SecondStepExpired:
        release_attempt(db, keys, clock=clock)  # no code was judged
        raise
    if user_id is not None:
        release_attempt(db, keys, clock=clock)
        return user_id
    raise _counted_failure(db, keys, email, holder, ip_address=ip_address, clock=clock, claimed=True)


def _counted_failure(
    db: Database,
    keys: tuple[tuple[str, str], ...],
    email: str,
    holder: _Holder,
    *,
    ip_address: str,
    clock: Clock,
    action: str = "",
    claimed: bool = False,
) -> WrongTwoFactorCode | SignInLocked:
    """Count a wrong code (or proof) against the account and the address, as a wrong password is."""
    staff = holder.is_staff
    error = count_failed_sign_in(
        db,
        keys,
        email=email,
        ip_address=ip_address,
        clock=clock,
        action=action or (STAFF_CODE_FAILED if staff else CUSTOMER_CODE_FAILED),
        lock_action=_lock_action(holder),
        portal_user_id=holder.portal_user_id,
        staff_user_id=holder.staff_user_id,
        claimed=claimed,
    )
    return error if isinstance(error, SignInLocked) else WrongTwoFactorCode()


def _lock_action(holder: _Holder) -> str:
    return "staff_sign_in.locked" if holder.is_staff else "sign_in.locked"


def _prove(db: Database, holder: _Holder, proof: str, *, ip_address: str, clock: Clock) -> None:
    """Check that the person at the keyboard is the owner of the account: a current code or the
    password. A wrong one counts as a failed sign-in."""
    now = clock()
    with db.reading() as session:
        email, password_hash = _login_of(session, holder)
        keys = _throttle_keys(holder, email, ip_address)
    locked_until = claim_attempt(
        db, keys, email=email, ip_address=ip_address, clock=clock, lock_action=_lock_action(holder)
    )
    if locked_until is not None:
        raise SignInLocked(locked_until)
    candidate = proof.strip()
    proven = False
    if _looks_like_totp(candidate):
        with db.transaction() as session:
            credential = _confirmed(session, holder, lock=True)
            proven = credential is not None and _accept_totp(session, credential, candidate, now)
        if credential is None:
            release_attempt(db, keys, clock=clock)
            raise TwoFactorNotOn()
    else:
        proven = bool(candidate) and verify_password(proof, password_hash)
    if proven:
        release_attempt(db, keys, clock=clock)
        return
    error = _counted_failure(
        db, keys, email, holder, ip_address=ip_address, clock=clock, action=WRONG_PROOF, claimed=True
    )
    raise error if isinstance(error, SignInLocked) else WrongTwoFactorProof()


def _begin(session: Session, holder: _Holder, now: datetime) -> TotpSetup:
    existing = session.scalars(
        select(TwoFactorCredential).where(holder.owns_credential()).with_for_update()
    ).one_or_none()
    if existing is not None and existing.confirmed_at is not None:
        raise TwoFactorAlreadyOn()
    if existing is not None:
        session.delete(existing)
        session.flush()
    secret = pyotp.random_base32()
    session.add(
        TwoFactorCredential(
            secret=secret,
            portal_user_id=holder.portal_user_id,
            staff_user_id=holder.staff_user_id,
            created_at=now,
        )
    )
    email, _ = _login_of(session, holder)
    issuer = _business_name(session, holder)
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)
    return TotpSetup(secret, uri, qr_data_url(uri), issuer, email)


def qr_data_url(text: str) -> str:
    """The QR code of ``text`` as an SVG data URL (black on white, a quiet zone of four modules)."""
    return segno.make(text, error="m").svg_data_uri(scale=4, border=4)


def _confirm(
    session: Session, holder: _Holder, code: str, *, ip_address: str, now: datetime
) -> RecoveryCodes:
    credential = session.scalars(
        select(TwoFactorCredential).where(holder.owns_credential()).with_for_update()
    ).one_or_none()
    if credential is None:
        raise NotFound("two-factor set-up", holder.describe())
    if credential.confirmed_at is not None:
        raise TwoFactorAlreadyOn()
    if not _accept_totp(session, credential, code.strip(), now):
        raise WrongTwoFactorCode()
    credential.confirmed_at = now
    codes = _new_recovery_codes(session, credential, now)
    _record(session, ENABLED, holder, at=now, ip_address=ip_address)
    _notify_customer(session, holder.portal_user_id, ENABLED, now)
    return codes


def _accept_code(
    session: Session,
    credential: TwoFactorCredential,
    code: str,
    now: datetime,
    *,
    ip_address: str,
    holder: _Holder,
) -> bool:
    """Accept a code from the app or an unused recovery code (spending it); False for anything else."""
    candidate = "".join(code.split())
    if _looks_like_totp(candidate):
        return _accept_totp(session, credential, candidate, now)
    normalized = candidate.replace("-", "").lower()
    if len(normalized) != RECOVERY_CODE_LENGTH:
        return False
    unused = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.credential_id == credential.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for recovery in unused:
        if hmac.compare_digest(recovery.code_hash, _recovery_hash(recovery.salt, normalized)):
            spent = session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
            )
            if getattr(spent, "rowcount", 0) != 1:  # spent by a sign-in at the same moment
                return False
            _record(
                session,
                RECOVERY_CODE_USED,
                holder,
                at=now,
                ip_address=ip_address,
                details={"left": len(unused) - 1},
            )
            return True
    return False


def _accept_totp(session: Session, credential: TwoFactorCredential, code: str, now: datetime) -> bool:
    """Whether ``code`` is the app's code of the current step (or one either side) and newer than the
    last one accepted; if so, that step is remembered, so the code never works again."""
    candidate = "".join(code.split())
    if not _looks_like_totp(candidate):
        return False
    try:
        secret = session.scalar(
            select(TwoFactorCredential.secret).where(TwoFactorCredential.id == credential.id)
        )
    except SecretUnreadable:  # the secret key changed: only a recovery code (or a reset) helps now
        return False
    if not secret:
        return False
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(now)
    matched = next(
        (
            step
            for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
            if hmac.compare_digest(totp.generate_otp(step), candidate)
        ),
        None,
    )
    if matched is None:
        return False
    accepted = session.execute(
        update(TwoFactorCredential)
        .where(
            TwoFactorCredential.id == credential.id,
            or_(TwoFactorCredential.last_used_step.is_(None), TwoFactorCredential.last_used_step < matched),
        )
        .values(last_used_step=matched)
        .execution_options(synchronize_session=False)
    )
    return getattr(accepted, "rowcount", 0) == 1


def _looks_like_totp(text: str) -> bool:
    return len(text) == DIGITS and text.isascii() and text.isdigit()


def _new_recovery_codes(session: Session, credential: TwoFactorCredential, now: datetime) -> RecoveryCodes:
    session.execute(delete(RecoveryCode).where(RecoveryCode.credential_id == credential.id))
    codes = []
    for _number in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        salt = secrets.token_hex(16)
        session.add(
            RecoveryCode(
                credential_id=credential.id, salt=salt, code_hash=_recovery_hash(salt, raw), created_at=now
            )
        )
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return RecoveryCodes(tuple(codes))


def _recovery_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _remove(session: Session, credential: TwoFactorCredential) -> None:
    session.execute(delete(RecoveryCode).where(RecoveryCode.credential_id == credential.id))
    owner = (
        SignInChallenge.portal_user_id == credential.portal_user_id
        if credential.portal_user_id is not None
        else SignInChallenge.staff_user_id == credential.staff_user_id
    )
    session.execute(delete(SignInChallenge).where(owner))  # a pending second step is void
    session.delete(credential)


def _confirmed(session: Session, holder: _Holder, *, lock: bool = False) -> TwoFactorCredential | None:
    query = select(TwoFactorCredential).where(
        holder.owns_credential(),
        TwoFactorCredential.confirmed_at.is_not(None),
    )
    # the secret is read on its own (``_accept_totp``), so a key that cannot open it fails softly
    query = query.options(defer(TwoFactorCredential.secret))
    return session.scalars(query.with_for_update() if lock else query).one_or_none()


def _codes_left(session: Session, credential_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                RecoveryCode.credential_id == credential_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def _staff_required(session: Session, holder: _Holder) -> bool:
    return bool(
        session.scalar(
            select(Organization.require_staff_two_factor)
            .join(StaffUser, StaffUser.organization_id == Organization.id)
            .where(StaffUser.id == holder.staff_user_id)
        )
    )


def _login_of(session: Session, holder: _Holder) -> tuple[str, str | None]:
    """The e-mail address and password hash of the account."""
    if holder.portal_user_id is not None:
        user = session.get_one(PortalUser, holder.portal_user_id)
        return user.email, user.password_hash
    staff = session.get_one(StaffUser, holder.staff_user_id)
    return staff.email, staff.password_hash


def _business_name(session: Session, holder: _Holder) -> str:
    if holder.portal_user_id is not None:
        query = (
            select(Organization.name)
            .join(Client, Client.organization_id == Organization.id)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.id == holder.portal_user_id)
        )
    else:
        query = (
            select(Organization.name)
            .join(StaffUser, StaffUser.organization_id == Organization.id)
            .where(StaffUser.id == holder.staff_user_id)
        )
    return session.scalar(query) or "Invoicing Portal"


def _record(
    session: Session,
    action: str,
    holder: _Holder,
    *,
    at: datetime,
    ip_address: str = "",
    details: dict[str, object] | None = None,
) -> None:
    """An audit event about ``holder``'s two-factor sign-in, naming their client for a customer."""
    client_id = None
    if holder.portal_user_id is not None:
        client_id = session.scalar(select(PortalUser.client_id).where(PortalUser.id == holder.portal_user_id))
    record_event(
        session,
        action,
        at=at,
        portal_user_id=holder.portal_user_id,
        staff_user_id=holder.staff_user_id,
        client_id=client_id,
        ip_address=ip_address,
        details=details,
    )


SUBJECTS = {
    ENABLED: N_("Your two-factor sign-in to {business}'s customer portal: on"),
    DISABLED: N_("Your two-factor sign-in to {business}'s customer portal: off"),
    CODES_REGENERATED: N_("Your two-factor sign-in to {business}'s customer portal: new recovery codes"),
    RESET: N_("Your two-factor sign-in to {business}'s customer portal: reset"),
}
NOTICES = {
    ENABLED: N_(
        "the two-factor sign-in of your login {email} to the customer portal of {business} was turned on "
        "on {moment}."
    ),
    DISABLED: N_(
        "the two-factor sign-in of your login {email} to the customer portal of {business} was turned off "
        "on {moment}."
    ),
    CODES_REGENERATED: N_(
        "the two-factor sign-in of your login {email} to the customer portal of {business} got new recovery "
        "codes (the earlier ones no longer work) on {moment}."
    ),
    RESET: N_(
        "the two-factor sign-in of your login {email} to the customer portal of {business} was reset by "
        "{business}, as asked for when a phone is lost, on {moment}: your password alone signs you in now."
    ),
}


def _notify_customer(session: Session, portal_user_id: int | None, change: str, now: datetime) -> None:
    """An e-mail to a customer about a change of their two-factor sign-in, so one they did not make
    is noticed (as a changed password is)."""
    if portal_user_id is None:  # staff: the owner sees their changes in the audit trail
        return
    user = session.get_one(PortalUser, portal_user_id)
    client = session.get_one(Client, user.client_id)
    business = session.get_one(Organization, client.organization_id)
    zone = user.time_zone or business.time_zone
    with using_language(user.language or business.default_language, time_zone=zone):
        # The moment in the reader's time zone, named: an e-mail is read anywhere.
        moment = f"{format_moment(now, formatting_locale(business.locale))} ({zone})"
        what = _(NOTICES[change]).format(email=user.email, business=business.name, moment=moment)
        advice = (
            _(
                "If this was not you, choose a new password right away with “Forgot password?” on the "
                "sign-in page or write to {business} at {email}."
            )
            if business.email
            # Translators: “Forgot password?” is the link's text on the sign-in page.
            else _("If this was not you, choose a new password right away with “Forgot password?”.")
        )
        queue_email(
            session,
            to=[user.email],
            subject=_(SUBJECTS[change]).format(business=business.name),
            body_text="\n".join(
                [
                    _("Hello {name},").format(name=user.name),
                    "",
                    what,
                    "",
                    _("If this was you, there is nothing more to do."),
                    "",
                    advice.format(business=business.name, email=business.email),
                ]
            ),
            reply_to=business.email,
            client_id=client.id,
            now=now,
        )


def _throttle_keys(holder: _Holder, email: str, ip_address: str) -> tuple[tuple[str, str], ...]:
    """The sign-in throttles of this account and address (``services.auth``, ``services.staff_auth``)."""
    return ((ACCOUNT_SCOPE if holder.is_staff else "account", email), ("address", ip_address))


def _live_challenge(
    session: Session, token: str, *, staff: bool, now: datetime
) -> tuple[SignInChallenge, str] | None:
    """The unspent, unexpired challenge of ``token`` with its user's e-mail, if that user is active."""
    challenge = session.scalars(
        select(SignInChallenge).where(SignInChallenge.token_hash == challenge_hash(token))
    ).one_or_none()
    if challenge is None or challenge.used_at is not None or now >= challenge.expires_at:
        return None
    if staff != (challenge.staff_user_id is not None):
        return None
    if staff:
        staff_user = session.get(StaffUser, challenge.staff_user_id)
        return (challenge, staff_user.email) if staff_user is not None and staff_user.is_active else None
    user = session.get(PortalUser, challenge.portal_user_id)
    return (challenge, user.email) if user is not None and user.is_active else None


def _setup_challenge(session: Session, token: str | None, now: datetime) -> SignInChallenge:
    if not token:
        raise SecondStepExpired()
    found = _live_challenge(session, token, staff=True, now=now)
    if found is None or found[0].purpose != SETUP:
        raise SecondStepExpired()
    return session.scalars(
        select(SignInChallenge).where(SignInChallenge.id == found[0].id).with_for_update()
    ).one()


def _spend(session: Session, challenge: SignInChallenge, now: datetime) -> bool:
    """Mark the challenge used; False when another request spent it first."""
    spent = session.execute(
        update(SignInChallenge)
        .where(SignInChallenge.id == challenge.id, SignInChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return getattr(spent, "rowcount", 0) == 1


def _end_staff_sessions(session: Session, staff_user_ids: list[int], now: datetime) -> int:
    if not staff_user_ids:
        return 0
    result = session.execute(
        update(LoginSession)
        .where(LoginSession.staff_user_id.in_(staff_user_ids), LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
