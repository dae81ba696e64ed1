"""Customer sign-in: password check, throttling, server-side sessions, sign-out.

The cookie carries a random token; the database keeps only its SHA-256, so a leaked database does
not leak sessions. Sessions end after 2 hours without use or 14 days after sign-in, whichever comes
first. Failed sign-ins are counted per account and per address; too many lock both for a while,
longer each time.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Client, LoginSession, PortalUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import SignInLocked, SignInRefused
from services.events import Events, customer_sessions_topic, staff_sessions_topic
from services.passwords import DEFAULT_ROUNDS, verify_password
from services.principal import Principal
from services.second_step import SecondStepRequired, open_second_step
from services.sign_in_throttle import (
    claim_attempt,
    count_failed_sign_in,
    release_attempt,
    reset_throttle,
    throttle_locked_until,
)

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(days=14)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)  # how stale last_seen_at may get before it is written


@dataclass(frozen=True)
class IssuedSession:
    token: str  # goes into the cookie, nowhere else
    principal: Principal
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


def sign_in(
    db: Database,
    *,
    email: str,
    password: str,
    ip_address: str,
    user_agent: str = "",
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
) -> IssuedSession:
    """Check the password and open a new session; raises ``SignInRefused`` or ``SignInLocked``.

    With two-factor sign-in on, a right password raises ``SecondStepRequired`` instead, carrying the
    challenge that ``services.two_factor.verify_second_step`` turns into a session.

    ``rounds`` is the bcrypt cost of new passwords (``Settings.bcrypt_rounds``): an unknown e-mail's
    password is checked against a stand-in of that cost, so the answer takes as long as for a login.
    """
    email = normalize_email(email)[:254]
    throttle_keys = _throttle_keys(email, ip_address)
    locked_until = claim_attempt(db, throttle_keys, email=email, ip_address=ip_address, clock=clock)
    if locked_until is not None:
        with db.transaction() as session:
            record_event(
                session, "sign_in.refused_locked", at=clock(), ip_address=ip_address, details={"email": email}
            )
        raise SignInLocked(locked_until)
    with db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == email)).one_or_none()
        password_hash = user.password_hash if user is not None else None
    # bcrypt takes a quarter of a second on purpose; no transaction is held open meanwhile. It runs for
    # every e-mail, unknown or disabled too, so how long the answer takes does not tell them apart.
    matches = verify_password(password, password_hash, rounds=rounds)
    if user is None or not user.is_active or not matches:
        raise _record_failure(db, throttle_keys, email, ip_address, user, clock, claimed=True)
    release_attempt(db, throttle_keys, clock=clock)
    second_step = open_second_step(db, portal_user_id=user.id, ip_address=ip_address, clock=clock)
    if second_step is not None:  # two-factor sign-in: no session before the code
        raise SecondStepRequired(second_step)
    with db.transaction() as session:
        return open_session(session, user, ip_address=ip_address, user_agent=user_agent, now=clock())


def open_session(
    session: Session, user: PortalUser, *, ip_address: str, user_agent: str, now: datetime
) -> IssuedSession:
    """Open a session for a customer who proved who they are (password, and second step if any).

    Forgets the account's failed sign-ins and records ``sign_in.succeeded``; the only way a customer
    session starts.
    """
    token = new_session_token()
    reset_throttle(session, "account", user.email)
    client = session.get_one(Client, user.client_id)
    login = LoginSession(
        token_hash=token_hash(token),
        portal_user_id=user.id,
        ip_address=ip_address[:45],
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
    )
    session.add(login)
    session.execute(update(PortalUser).where(PortalUser.id == user.id).values(last_login_at=now))
    session.flush()
    record_event(
        session,
        "sign_in.succeeded",
        at=now,
        portal_user_id=user.id,
        client_id=user.client_id,
        ip_address=ip_address,
    )
    principal = Principal(
        user.id,
        client.id,
        client.organization_id,
        user.name,
        user.email,
        login.id,
        client_public_id=client.public_id,
    )
    return IssuedSession(token, principal, login.expires_at)


def resolve_session(db: Database, token: str | None, *, clock: Clock = utc_now) -> Principal | None:
    """The signed-in customer for a cookie token, or None when it is unknown, revoked or timed out."""
    resolved = resolve_session_until(db, token, clock=clock)
    return resolved.principal if resolved is not None else None


@dataclass(frozen=True)
class ResolvedSession:
    principal: Principal
    ends_at: (
        datetime  # the earlier of its time-outs, at the latest (this use may have postponed the idle one)
    )


def resolve_session_until(
    db: Database, token: str | None, *, clock: Clock = utc_now
) -> ResolvedSession | None:
    """``resolve_session``, with until when the session stands if nobody uses it."""
    if not token:
        return None
    now = clock()
    with db.reading() as session:
        row = session.execute(
            select(LoginSession, PortalUser, Client)
            .join(PortalUser, PortalUser.id == LoginSession.portal_user_id)
            .join(Client, Client.id == PortalUser.client_id)
            .where(LoginSession.token_hash == token_hash(token))
        ).one_or_none()
    if row is None:
        return None
    login, user, client = row
    ends_at = min(login.expires_at, login.last_seen_at + IDLE_TIMEOUT)  # read before keep_alive renews it
    if not user.is_active or not keep_alive(db, login, now):
        return None
    principal = Principal(
        user.id,
        client.id,
        client.organization_id,
        user.name,
        user.email,
        login.id,
        language=user.language,
        time_zone=user.time_zone,
        client_public_id=client.public_id,
    )
    return ResolvedSession(principal, ends_at)


def sign_out(
    db: Database,
    token: str | None,
    *,
    ip_address: str = "",
    clock: Clock = utc_now,
    events: Events | None = None,
) -> None:
    """Revoke the session of this token; the cookie is worthless from now on."""
    end_session(db, token, staff=False, action="sign_out", ip_address=ip_address, clock=clock, events=events)


def end_session(
    db: Database,
    token: str | None,
    *,
    staff: bool,
    action: str,
    ip_address: str = "",
    clock: Clock = utc_now,
    events: Events | None = None,
) -> None:
    """Revoke a customer's (or, with ``staff``, a staff member's) session; the other kind is left alone.

    Its pages still open elsewhere hear of it through ``events`` and leave for the sign-in page.
    """
    if not token:
        return
    now = clock()
    owner = LoginSession.staff_user_id if staff else LoginSession.portal_user_id
    with db.transaction() as session:
        login = session.scalars(
            select(LoginSession).where(LoginSession.token_hash == token_hash(token), owner.is_not(None))
        ).one_or_none()
        if login is None or login.revoked_at is not None:
            return
        login.revoked_at = now
        ended = sessions_topic(login)
        record_event(
            session,
            action,
            at=now,
            portal_user_id=login.portal_user_id,
            staff_user_id=login.staff_user_id,
            ip_address=ip_address,
        )
    if events is not None:
        events.publish(ended)


def sessions_topic(login: LoginSession) -> str:
    """The change notice of the person a session belongs to (``services.events``)."""
    if login.staff_user_id is not None:
        return staff_sessions_topic(login.staff_user_id)
    if login.portal_user_id is not None:
        return customer_sessions_topic(login.portal_user_id)
    raise ValueError(f"session {login.id} belongs to nobody")


def revoke_all_sessions(
    session: Session, portal_user_id: int, *, at: datetime, except_session_id: int | None = None
) -> int:
    """End every session of a user (after a password change, or when access is disabled).

    ``except_session_id`` keeps that one session (the browser that changed the password) open.
    Returns how many sessions were ended.
    """
    statement = update(LoginSession).where(
        LoginSession.portal_user_id == portal_user_id, LoginSession.revoked_at.is_(None)
    )
    if except_session_id is not None:
        statement = statement.where(LoginSession.id != except_session_id)
    result = session.execute(statement.values(revoked_at=at))
    return int(getattr(result, "rowcount", 0) or 0)


def password_locked_until(
    db: Database, *, email: str, ip_address: str, clock: Clock = utc_now
) -> datetime | None:
    """Until when the sign-in throttle refuses passwords for this account or address; None if it does not."""
    with db.reading() as session:
        return throttle_locked_until(session, _throttle_keys(normalize_email(email), ip_address), clock())


def record_failed_password(
    db: Database, *, email: str, ip_address: str, action: str = "sign_in.failed", clock: Clock = utc_now
) -> SignInLocked | None:
    """Count a wrong password given outside sign-in (e.g. to change it) towards the sign-in throttle.

    The failure counts against the account and the address exactly like a failed sign-in, in its own
    transaction, with the audit event ``action``. Returns the ``SignInLocked`` error when this failure
    locked them, else None.
    """
    email = normalize_email(email)[:254]
    with db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == email)).one_or_none()
    error = _record_failure(
        db, _throttle_keys(email, ip_address), email, ip_address, user, clock, action=action
    )
    return error if isinstance(error, SignInLocked) else None


def reset_account_throttle(session: Session, email: str) -> None:
    """Forget an account's failed sign-ins and lock (once its owner proved who they are another way)."""
    reset_throttle(session, "account", normalize_email(email))


def safe_local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: sign-in never redirects elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(character) < 32 or character == "\\" for character in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def new_session_token() -> str:
    """A fresh random cookie value; the database keeps only its ``token_hash``."""
    return secrets.token_urlsafe(32)


def session_open(login: LoginSession, now: datetime) -> bool:
    """Whether a session is neither revoked nor past either time-out, without renewing it."""
    return login.revoked_at is None and now < login.expires_at and now < login.last_seen_at + IDLE_TIMEOUT


def keep_alive(db: Database, login: LoginSession, now: datetime) -> bool:
    """Whether a session is still open (not revoked, neither time-out reached); renews its idle timer."""
    if not session_open(login, now):
        return False
    if now - login.last_seen_at >= LAST_SEEN_RESOLUTION:
        with db.transaction() as session:
            session.execute(update(LoginSession).where(LoginSession.id == login.id).values(last_seen_at=now))
    return True


def _throttle_keys(email: str, ip_address: str) -> tuple[tuple[str, str], ...]:
    return (("account", email), ("address", ip_address))


def _record_failure(
    db: Database,
    keys: tuple[tuple[str, str], ...],
    email: str,
    ip_address: str,
    user: PortalUser | None,
    clock: Clock,
    *,
    action: str = "sign_in.failed",
    claimed: bool = False,
) -> SignInRefused | SignInLocked:
    """Count a customer's failure against the account and the address; returns the error to raise."""
    return count_failed_sign_in(
        db,
        keys,
        email=email,
        ip_address=ip_address,
        clock=clock,
        action=action,
        portal_user_id=user.id if user else None,
        client_id=user.client_id if user else None,
        claimed=claimed,
    )
