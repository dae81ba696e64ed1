"""Which auto-pay consents are in force, and waking the auto-pay job when an invoice is due at once.

Kept apart from ``services.auto_pay`` so that issuing an invoice (``services.invoices.issue``, which
``services.auto_pay`` itself builds on) can wake the job without importing the charging code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import AutoPayConsent, Invoice, Organization, SavedPaymentMethod
from services.dates import zone
from services.scheduler import arm

AUTO_PAY_JOB = "auto_pay"  # the scheduler's kind; the business's id is the job's key


def active_consents() -> Select[AutoPayConsent]:
    """Consents in force: not turned off, and their card or account not removed since (removing the
    method auto-pay uses turns auto-pay off: nothing is promised or charged with a method that is gone)."""
    return (
        select(AutoPayConsent)
        .join(SavedPaymentMethod, SavedPaymentMethod.id == AutoPayConsent.saved_method_id)
        .where(AutoPayConsent.revoked_at.is_(None), SavedPaymentMethod.removed_at.is_(None))
    )


def wake_for_issued(session: Session, invoice: Invoice, now: datetime) -> None:
    """An invoice issued already due (due on receipt, or dated back) to a client on auto-pay is charged
    today, not at the next daily run: the job is brought forward to now, in the issuing transaction."""
    time_zone = session.scalar(
        select(Organization.time_zone).where(Organization.id == invoice.organization_id)
    )
    if time_zone is None or invoice.due_date > now.astimezone(zone(time_zone)).date():
        return  # due later: the daily run on its due date charges it
    on_auto_pay = session.scalar(
        active_consents().where(AutoPayConsent.client_id == invoice.client_id).limit(1)
    )
    if on_auto_pay is not None:
        arm(session, AUTO_PAY_JOB, str(invoice.organization_id), due_at=now, now=now)
