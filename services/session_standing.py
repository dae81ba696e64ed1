"""Whether the session behind an open page still stands, asked again at the page's actions.

``components.authority`` asks before it hands a page's event to its handlers, and when a change
notice says a session of the person may have ended. It asks by the SHA-256 of the cookie's token,
which is what the database keeps, so the check needs no secret. A session stands while it is not
revoked, neither time-out is reached and its person is active; a staff session also tells the role,
for the pages only the owner may use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models import LoginSession, PortalUser, StaffUser
from services.auth import IDLE_TIMEOUT, keep_alive, session_open
from services.clock import Clock, utc_now
from services.database import Database


@dataclass(frozen=True)
class Standing:
    """A session that stands, and until when it stands at least if nobody uses it."""

    ends_at: datetime  # the earlier of its time-outs as the database had them (use may postpone the idle one)
    role: str | None = None  # owner | staff for a staff session; None for a customer's


def customer_standing(
    db: Database, token_hash: str, *, renew: bool, clock: Clock = utc_now
) -> Standing | None:
    """The customer session with this token hash if it stands, else None.

    ``renew`` counts the question as use of the session (an action on a page), postponing its idle
    time-out as a request does; a page only watching for the end of its session must not.
    """
    with db.reading() as session:
        row = session.execute(
            select(LoginSession, PortalUser.is_active)
            .join(PortalUser, PortalUser.id == LoginSession.portal_user_id)
            .where(LoginSession.token_hash == token_hash)
        ).one_or_none()
    if row is None or not row.is_active:
        return None
    return _standing(db, row.LoginSession, None, renew=renew, now=clock())


def staff_standing(db: Database, token_hash: str, *, renew: bool, clock: Clock = utc_now) -> Standing | None:
    """The staff session with this token hash if it stands (with the member's role now), else None.

    ``renew`` as for ``customer_standing``.
    """
    with db.reading() as session:
        row = session.execute(
            select(LoginSession, StaffUser.is_active, StaffUser.role)
            .join(StaffUser, StaffUser.id == LoginSession.staff_user_id)
            .where(LoginSession.token_hash == token_hash, LoginSession.portal_user_id.is_(None))
        ).one_or_none()
    if row is None or not row.is_active:
        return None
    return _standing(db, row.LoginSession, row.role, renew=renew, now=clock())


def _standing(
    db: Database, login: LoginSession, role: str | None, *, renew: bool, now: datetime
) -> Standing | None:
    stands = keep_alive(db, login, now) if renew else session_open(login, now)
    if not stands:
        return None
    return Standing(min(login.expires_at, login.last_seen_at + IDLE_TIMEOUT), role)
