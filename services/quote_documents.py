"""A quote as people read it (the customer's page and PDF, the business's sheet): plain data, no ORM.

Its status label is derived here, once: a sent quote whose valid-until day has passed in the
business's time zone is *Expired*, and can no longer be accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceKind, Organization, PortalUser, Quote, QuoteLine, QuoteStatus
from services.business_documents import LineView, line_view
from services.dates import in_time_zone
from services.i18n import N_, _, formatting_locale
from services.invoice_detail import DocumentLine, Party, business_party, client_party, document_lines
from services.money import Money, round_half_up
from services.totals import HUNDRED

STATUS_LABELS = {
    QuoteStatus.DRAFT: N_("Draft"),
    QuoteStatus.SENT: N_("Sent"),
    QuoteStatus.ACCEPTED: N_("Accepted"),
    QuoteStatus.DECLINED: N_("Declined"),
}
EXPIRED_LABEL = N_("Expired")


def business_day(now: datetime, time_zone: str) -> date:
    """The day it is at ``now`` where the business is: the day a valid-until date is compared with."""
    return in_time_zone(now, time_zone).date()


def is_expired(status: str, valid_until: date, today: date) -> bool:
    """A quote waiting for an answer whose last day (``valid_until``) is before the business's ``today``."""
    return status == QuoteStatus.SENT and today > valid_until


def status_label(status: str, valid_until: date, today: date) -> str:
    """The English label (a key of ``components.status``; shown with ``term``)."""
    return EXPIRED_LABEL if is_expired(status, valid_until, today) else STATUS_LABELS[QuoteStatus(status)]


def deposit_amount(total: Money, percent: Decimal) -> Money:
    """``percent`` of ``total``, rounded half-up to the minor unit, as every line amount is."""
    return Money(round_half_up(Decimal(total.minor) * percent / HUNDRED), total.currency)


@dataclass(frozen=True)
class QuoteAnswer:
    """The customer's acceptance (signed with a typed name) or decline (with a reason)."""

    accepted: bool
    by: str  # the contact who answered
    at: datetime
    ip_address: str
    signature: str  # the typed full name, for an acceptance
    reason: str  # for a decline


@dataclass(frozen=True)
class QuoteDocument:
    public_id: str
    number: str
    status: str
    status_label: str
    expired: bool
    issue_date: date
    valid_until: date
    business: Party
    client: Party
    client_public_id: str
    lines: tuple[DocumentLine, ...]
    line_inputs: tuple[LineView, ...]  # the lines as the editor reads them
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    deposit_percent: Decimal  # 0: accepting makes an ordinary invoice
    deposit: Money  # what the retainer invoice asks for, when there is a deposit
    notes: str
    terms: str
    locale: str
    logo: bytes | None
    sent_at: datetime | None
    answer: QuoteAnswer | None
    invoice_public_id: str | None  # the invoice it became, once accepted
    invoice_number: str
    invoice_is_retainer: bool = False  # the deposit's retainer invoice, rather than the quote's own

    @property
    def title(self) -> str:
        return _("Quote")

    @property
    def can_answer(self) -> bool:
        """Whether the customer may still accept or decline it."""
        return self.status == QuoteStatus.SENT and not self.expired


def quote_document(
    session: Session, quote: Quote, *, now: datetime, with_logo: bool = False
) -> QuoteDocument:
    """``quote`` as it is read, at ``now`` (which decides whether it has expired)."""
    organization = session.get_one(Organization, quote.organization_id)
    business, locale = business_party(session, quote.organization_id)
    client = session.get_one(Client, quote.client_id)
    lines = session.scalars(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.position)
    ).all()
    currency = quote.currency

    def money(minor: int) -> Money:
        return Money(minor, currency)

    today = business_day(now, organization.time_zone)
    invoice = session.get(Invoice, quote.invoice_id) if quote.invoice_id else None
    return QuoteDocument(
        public_id=quote.public_id,
        number=quote.number,
        status=quote.status,
        status_label=status_label(quote.status, quote.valid_until, today),
        expired=is_expired(quote.status, quote.valid_until, today),
        issue_date=quote.issue_date,
        valid_until=quote.valid_until,
        business=business,
        client=client_party(session, quote.client_id),
        client_public_id=client.public_id,
        lines=document_lines(lines, currency),
        line_inputs=tuple(line_view(line) for line in lines),
        subtotal=money(quote.subtotal_minor),
        discount=money(quote.discount_minor),
        tax=money(quote.tax_minor),
        total=money(quote.total_minor),
        deposit_percent=quote.deposit_percent,
        deposit=deposit_amount(money(quote.total_minor), quote.deposit_percent),
        notes=quote.notes,
        terms=quote.terms,
        locale=formatting_locale(locale),
        logo=organization.logo if with_logo else None,
        sent_at=quote.sent_at,
        answer=_answer(session, quote),
        invoice_public_id=invoice.public_id if invoice else None,
        invoice_number=invoice.number if invoice else "",
        invoice_is_retainer=invoice is not None and invoice.kind == InvoiceKind.RETAINER,
    )


def _answer(session: Session, quote: Quote) -> QuoteAnswer | None:
    if quote.status not in (QuoteStatus.ACCEPTED, QuoteStatus.DECLINED) or quote.answered_at is None:
        return None
    by = session.scalar(select(PortalUser.name).where(PortalUser.id == quote.answered_by_id)) or ""
    return QuoteAnswer(
        accepted=quote.status == QuoteStatus.ACCEPTED,
        by=by,
        at=quote.answered_at,
        ip_address=quote.answered_ip,
        signature=quote.signature_name,
        reason=quote.decline_reason,
    )
