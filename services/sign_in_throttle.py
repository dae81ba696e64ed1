"""The sign-in throttle: failed attempts counted per account and per address, and the lock-outs they earn.

An account locks after ``ACCOUNT_FAILURE_LIMIT`` failures within ``FAILURE_WINDOW``, an address after
``ADDRESS_FAILURE_LIMIT``; each lock lasts twice as long as the one before, up to ``LONGEST_LOCK``.
Passwords and second-step codes (customers' and staff's) count alike.

An attempt is *claimed* before its answer is known (``claim_attempt``): the lock is checked and the
attempt counted in one transaction, the throttle rows locked, so that however many attempts arrive
at once no more than the limit are ever judged; those beyond it are refused as locked. A wrong
answer keeps its count (``count_failed_sign_in``), a right one gives it back (``release_attempt``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import LoginThrottle
from services.audit import record_event
from services.clock import Clock
from services.database import Database
from services.errors import SignInLocked, SignInRefused

FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)

Keys = tuple[tuple[str, str], ...]  # (scope, key): ("account", e-mail), ("address", IP address), ...


def throttle_locked_until(session: Session, keys: Keys, now: datetime) -> datetime | None:
    """Until when any of the ``(scope, key)`` throttles is locked; None when none is."""
    locks = session.scalars(
        select(LoginThrottle.locked_until).where(
            or_(*[and_(LoginThrottle.scope == scope, LoginThrottle.key == key) for scope, key in keys]),
            LoginThrottle.locked_until > now,
        )
    ).all()
    return max((lock for lock in locks if lock is not None), default=None)


def claim_attempt(
    db: Database,
    keys: Keys,
    *,
    email: str,
    ip_address: str,
    clock: Clock,
    lock_action: str = "sign_in.locked",
) -> datetime | None:
    """Count an attempt before judging it; returns until when it is locked out (then do not judge it).

    An attempt beyond the limit while others are still being judged locks the throttle at once, as the
    failure it will most likely be would.
    """
    now = clock()
    with db.transaction() as session:
        rows = [_throttle(session, scope, key, now) for scope, key in keys]
        locked = [row.locked_until for row in rows if row.locked_until is not None and row.locked_until > now]
        if locked:
            return max(locked)
        until: datetime | None = None
        for (scope, _), row in zip(keys, rows, strict=True):
            row.failures += 1
            if row.failures > _limit(scope):
                until = max(until or now, _lock(session, row, now, email, ip_address, lock_action))
        return until


def release_attempt(db: Database, keys: Keys, *, clock: Clock) -> None:
    """A claimed attempt was right: it does not count as a failure."""
    now = clock()
    with db.transaction() as session:
        for scope, key in keys:
            row = _throttle(session, scope, key, now)
            row.failures = max(0, row.failures - 1)


def count_failed_sign_in(
    db: Database,
    keys: Keys,
    *,
    email: str,
    ip_address: str,
    clock: Clock,
    action: str = "sign_in.failed",
    lock_action: str = "sign_in.locked",
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
    client_id: int | None = None,
    claimed: bool = False,
) -> SignInRefused | SignInLocked:
    """Count a failure against each ``(scope, key)`` throttle; returns the error to raise.

    ``claimed``: the attempt was counted already by ``claim_attempt``; its failure may now lock. The
    ids name who tried, in the audit event ``action``.
    """
    now = clock()
    locked_until: datetime | None = None
    with db.transaction() as session:
        for scope, key in keys:
            throttle = _throttle(session, scope, key, now)
            if not claimed:
                throttle.failures += 1
            if throttle.failures >= _limit(scope):
                _lock(session, throttle, now, email, ip_address, lock_action)
            if throttle.locked_until is not None and throttle.locked_until > now:
                locked_until = max(locked_until or throttle.locked_until, throttle.locked_until)
        record_event(
            session,
            action,
            at=now,
            portal_user_id=portal_user_id,
            staff_user_id=staff_user_id,
            client_id=client_id,
            ip_address=ip_address,
            details={"email": email},
        )
    return SignInLocked(locked_until) if locked_until is not None else SignInRefused()


def reset_throttle(session: Session, scope: str, key: str) -> None:
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        .values(failures=0, lockouts=0, locked_until=None)
    )


def _limit(scope: str) -> int:
    return ADDRESS_FAILURE_LIMIT if scope == "address" else ACCOUNT_FAILURE_LIMIT


def _throttle(session: Session, scope: str, key: str, now: datetime) -> LoginThrottle:
    """The throttle row, locked for this transaction (made if there is none), its window current."""
    query = select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
    throttle = session.scalars(query.with_for_update()).one_or_none()
    if throttle is None:
        try:
            with session.begin_nested():  # another attempt may make the same row at the same moment
                throttle = LoginThrottle(scope=scope, key=key, failures=0, window_started_at=now, lockouts=0)
                session.add(throttle)
        except IntegrityError:
            throttle = session.scalars(query.with_for_update()).one()
    if now - throttle.window_started_at >= FAILURE_WINDOW:
        throttle.failures = 0
        throttle.window_started_at = now
    return throttle


def _lock(
    session: Session, throttle: LoginThrottle, now: datetime, email: str, ip_address: str, action: str
) -> datetime:
    lock = min(FIRST_LOCK * 2**throttle.lockouts, LONGEST_LOCK)
    throttle.lockouts += 1
    throttle.failures = 0
    throttle.window_started_at = now
    throttle.locked_until = now + lock
    record_event(
        session,
        action,
        at=now,
        ip_address=ip_address,
        details={"scope": throttle.scope, "email": email, "until": throttle.locked_until.isoformat()},
    )
    return throttle.locked_until
