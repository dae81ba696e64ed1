"""What a load balancer's probes and the operator's metrics read from the database.

``readiness`` answers /readyz: an instance whose database cannot be reached, or is not at the schema this
code expects (another instance still migrating it, or a newer version already ran), must get no traffic.
``work_figures`` answers the part of /metrics that only the database knows, and that is the same whichever
instance is asked: how many payments ended how, what waits in the outbox, and how old the oldest unfinished
work is. Each is a handful of indexed queries in one read transaction, cheap enough for every scrape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from models import OutboxEmail, Payment, PaymentStatus
from services.database import Database, alembic_config
from services.database_faults import is_outage
from services.outbox import FAILED, PENDING, SENDING

UNANSWERED = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
WAITING = (PENDING, SENDING)

_head: str | None = None


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str  # "" when ready; else a few words for the balancer's log, naming no secret


@dataclass(frozen=True)
class WorkFigures:
    payments: dict[tuple[str, str], int]  # (gateway, status) -> how many payments
    outbox: dict[str, int]  # pending, sending, failed -> how many messages (sent ones are not counted)
    oldest_unanswered_payment_seconds: float  # 0 when every attempt has its final answer
    oldest_waiting_email_seconds: float  # 0 when nothing waits to be sent


def migration_head() -> str:
    """The newest migration of this code, read once per process."""
    global _head
    if _head is None:
        _head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
    return _head


def readiness(db: Database) -> Readiness:
    """Whether this instance may take traffic: its database answers and is at this code's newest revision.

    Blocking (one query): call it from a worker thread. Any failure to read the database counts as not
    ready, with a short reason; the error's own text (which may name a host or a user) is not given.
    """
    try:
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as error:  # whatever it is, the balancer should send no one here
        return Readiness(False, "database unavailable" if is_outage(error) else "database unreadable")
    head = migration_head()
    if current != head:
        return Readiness(False, f"database at revision {current or 'none'}, this version needs {head}")
    return Readiness(True, "")


def work_figures(db: Database, now: datetime) -> WorkFigures:
    """The payments by gateway and status, the outbox by status and the age of the oldest unfinished work."""
    with db.reading() as session:
        payments = {
            (gateway, status): count
            for gateway, status, count in session.execute(
                select(Payment.gateway, Payment.status, func.count()).group_by(
                    Payment.gateway, Payment.status
                )
            )
        }
        outbox = dict.fromkeys((PENDING, SENDING, FAILED), 0)
        for status, count in session.execute(
            select(OutboxEmail.status, func.count())
            .where(OutboxEmail.status.in_(outbox))
            .group_by(OutboxEmail.status)
        ):
            outbox[status] = count
        oldest_payment = session.scalar(
            select(func.min(Payment.created_at)).where(
                Payment.status.in_(UNANSWERED), Payment.gateway != "offline"
            )
        )
        oldest_email = session.scalar(
            select(func.min(OutboxEmail.created_at)).where(OutboxEmail.status.in_(WAITING))
        )
    return WorkFigures(
        payments=payments,
        outbox=outbox,
        oldest_unanswered_payment_seconds=_age(oldest_payment, now),
        oldest_waiting_email_seconds=_age(oldest_email, now),
    )


def _age(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0
