"""The audit trail: who did what, written in the same transaction as the deed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import AuditEvent


def record_event(
    session: Session,
    action: str,
    *,
    at: datetime,
    portal_user_id: int | None = None,
    staff_user_id: int | None = None,
    client_id: int | None = None,
    subject: tuple[str, int] | None = None,
    ip_address: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            action=action,
            portal_user_id=portal_user_id,
            staff_user_id=staff_user_id,
            client_id=client_id,
            subject_type=subject[0] if subject else "",
            subject_id=subject[1] if subject else None,
            ip_address=ip_address[:45],
            details=details or {},
            created_at=at,
        )
    )


def events_from_address(session: Session, action: str, ip_address: str, *, since: datetime) -> int:
    """How many ``action`` events an IP address caused since then: a limit on requests that must not
    tell whether an e-mail address has a login (a reset link, a sign-in link)."""
    count = session.scalar(
        select(func.count()).where(
            AuditEvent.action == action,
            AuditEvent.ip_address == ip_address[:45],
            AuditEvent.created_at > since,
        )
    )
    return int(count or 0)
