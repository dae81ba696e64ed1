"""Quotes as the customer sees and answers them: listed, read, accepted (signed) or declined.

Accepting makes the quote's invoice in the same transaction, with the quote's row locked (on SQLite the
single writer): two tabs accepting at once make one invoice, and the second is told the quote was
accepted already. An expired quote (valid-until passed in the business's time zone) cannot be answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Client, Invoice, InvoiceKind, Organization, Quote, QuoteStatus
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, InvalidStatusChange, NotFound, QuoteExpired
from services.events import QUOTES_TOPIC, Events, client_documents_topic, quote_topic
from services.i18n import _, formatting_locale
from services.invoice_emails import queue_invoice_sent_email
from services.invoices import add_draft, issue
from services.language_settings import writing_for_client
from services.money import Money
from services.principal import Principal
from services.quote_documents import (
    QuoteDocument,
    business_day,
    deposit_amount,
    is_expired,
    quote_document,
    status_label,
)
from services.quote_emails import queue_quote_answered_notice
from services.totals import LineInput

MAX_SIGNATURE_LENGTH = 200
MAX_REASON_LENGTH = 2000
# A reason keeps its line breaks and tabs; every other control character is dropped, as in a review.
_REASON_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ClientQuoteRow:
    public_id: str
    number: str
    issue_date: date
    valid_until: date
    total: Money
    status_label: str


@dataclass(frozen=True)
class AcceptedQuote:
    """What accepting made: the invoice (a retainer invoice for a deposit) the customer now owes."""

    invoice_public_id: str
    invoice_number: str
    is_retainer: bool


def client_quotes(db: Database, principal: Principal, *, now: datetime) -> tuple[ClientQuoteRow, ...]:
    """The signed-in client's sent quotes, newest first; drafts are the business's own."""
    with db.reading() as session:
        today = _today(session, principal.organization_id, now)
        quotes = session.scalars(
            select(Quote)
            .where(Quote.client_id == principal.client_id, Quote.status != QuoteStatus.DRAFT)
            .order_by(Quote.issue_date.desc(), Quote.id.desc())
        ).all()
        return tuple(
            ClientQuoteRow(
                quote.public_id,
                quote.number,
                quote.issue_date,
                quote.valid_until,
                Money(quote.total_minor, quote.currency),
                status_label(quote.status, quote.valid_until, today),
            )
            for quote in quotes
        )


def client_quote(
    db: Database, principal: Principal, public_id: str, *, now: datetime, with_logo: bool = False
) -> QuoteDocument:
    """One of the client's sent quotes; a draft or another client's quote is ``NotFound``."""
    with db.reading() as session:
        return quote_document(
            session, _client_quote(session, principal, public_id), now=now, with_logo=with_logo
        )


def accept_quote(
    db: Database,
    principal: Principal,
    public_id: str,
    *,
    signature: str,
    ip_address: str,
    base_url: str,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> AcceptedQuote:
    """The customer accepts a quote, signing with their typed full name; its invoice is made at once.

    With no deposit (or one that rounds to nothing) the invoice carries the quote's lines; with one it is
    a retainer invoice for that share of the quote's total (rounded half-up to the minor unit). It is
    issued and e-mailed like an invoice the business sends. ``InvalidDetails`` keyed ``signature`` for a
    missing name, one too long or with control or invisible characters, ``QuoteExpired`` after its
    valid-until day, ``InvalidStatusChange`` once it was answered.
    """
    name = " ".join(signature.split())
    if not name:
        raise InvalidDetails({"signature": _("Type your full name to sign the acceptance.")})
    if len(name) > MAX_SIGNATURE_LENGTH:
        raise InvalidDetails({"signature": _("The name can be at most 200 characters long.")})
    if not name.isprintable():  # control, invisible or bidi characters: the proof would not read as signed
        raise InvalidDetails({"signature": _("Remove the special (control) characters.")})
    now = clock()
    with db.transaction() as session:
        quote = _answerable(session, principal, public_id, now, "accepted")
        invoice = _invoice_for(session, quote, now=now, base_url=base_url)
        quote.status = QuoteStatus.ACCEPTED
        quote.invoice_id = invoice.id
        quote.signature_name = name
        _answered(quote, principal, ip_address, now)
        record_event(session, "quote.accepted", at=now, portal_user_id=principal.portal_user_id,
                     client_id=quote.client_id, subject=("quote", quote.id), ip_address=ip_address,
                     details={"signature": name, "invoice": invoice.number})  # fmt: skip
        queue_quote_answered_notice(session, quote, customer=principal.name, customer_email=principal.email,
                                    invoice_number=invoice.number, base_url=base_url, now=now)  # fmt: skip
        accepted = AcceptedQuote(invoice.public_id, invoice.number, invoice.kind == InvoiceKind.RETAINER)
        client_public_id = session.get_one(Client, quote.client_id).public_id
    _notify(events, public_id, client_public_id)
    return accepted


def decline_quote(
    db: Database,
    principal: Principal,
    public_id: str,
    *,
    reason: str,
    ip_address: str,
    base_url: str = "",
    events: Events | None = None,
    clock: Clock = utc_now,
) -> None:
    """The customer declines a quote, saying why (required: the business wants to know, and is told by
    e-mail with a link under ``base_url``, as it is of an acceptance)."""
    text = _REASON_CONTROL.sub("", reason.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise InvalidDetails({"reason": _("Tell us why you decline the quote.")})
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidDetails({"reason": _("The reason can be at most 2,000 characters long.")})
    now = clock()
    with db.transaction() as session:
        quote = _answerable(session, principal, public_id, now, "declined")
        quote.status = QuoteStatus.DECLINED
        quote.decline_reason = text
        _answered(quote, principal, ip_address, now)
        record_event(session, "quote.declined", at=now, portal_user_id=principal.portal_user_id,
                     client_id=quote.client_id, subject=("quote", quote.id), ip_address=ip_address,
                     details={"reason": text})  # fmt: skip
        queue_quote_answered_notice(session, quote, customer=principal.name, customer_email=principal.email,
                                    invoice_number="", base_url=base_url, now=now)  # fmt: skip
        client_public_id = session.get_one(Client, quote.client_id).public_id
    _notify(events, public_id, client_public_id)


def _answerable(session: Session, principal: Principal, public_id: str, now: datetime, wanted: str) -> Quote:
    """The client's quote, locked, if it still waits for an answer."""
    quote = _client_quote(session, principal, public_id, lock=True)
    if quote.status != QuoteStatus.SENT:
        raise InvalidStatusChange("quote", quote.number, quote.status, wanted)
    if is_expired(quote.status, quote.valid_until, _today(session, quote.organization_id, now)):
        raise QuoteExpired(quote.number, quote.valid_until)
    return quote


def _answered(quote: Quote, principal: Principal, ip_address: str, now: datetime) -> None:
    quote.answered_at = now
    quote.answered_by_id = principal.portal_user_id
    quote.answered_ip = ip_address[:45]


def _invoice_for(session: Session, quote: Quote, *, now: datetime, base_url: str) -> Invoice:
    """The accepted quote's invoice, issued and e-mailed in the caller's transaction."""
    organization = session.get_one(Organization, quote.organization_id)
    today = business_day(now, organization.time_zone)
    deposit = deposit_amount(Money(quote.total_minor, quote.currency), quote.deposit_percent)
    if deposit.minor:  # a deposit that rounds to nothing asks nothing in advance: the quote's own invoice
        with writing_for_client(session, quote.client_id):
            percent = format_decimal(
                quote.deposit_percent.normalize(), locale=formatting_locale(organization.locale)
            )
            description = _("Deposit of {percent} % for quote {number}").format(
                percent=percent, number=quote.number
            )
        lines = [LineInput(description, Decimal(1), deposit.minor)]
        kind = InvoiceKind.RETAINER
    else:
        lines = [
            LineInput(
                line.description,
                line.quantity,
                line.unit_price_minor,
                line.discount_percent,
                line.tax_rate_percent,
                line.tax_name,
            )
            for line in quote.lines
        ]
        kind = InvoiceKind.INVOICE
    invoice = add_draft(
        session,
        client_id=quote.client_id,
        lines=lines,
        issue_date=today,
        due_date=today + timedelta(days=organization.payment_terms_days),
        kind=kind,
        notes=quote.notes,
        terms=quote.terms,
        now=now,
    )
    issue(session, invoice, now=now)
    queue_invoice_sent_email(session, invoice, base_url=base_url, now=now)
    return invoice


def _client_quote(session: Session, principal: Principal, public_id: str, *, lock: bool = False) -> Quote:
    query = select(Quote).where(
        Quote.public_id == public_id,
        Quote.client_id == principal.client_id,
        Quote.status != QuoteStatus.DRAFT,
    )
    if lock:
        query = query.options(selectinload(Quote.lines)).with_for_update()
    quote = session.scalars(query).one_or_none()
    if quote is None:
        raise NotFound("quote", public_id)
    return quote


def _today(session: Session, organization_id: int, now: datetime) -> date:
    time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
    return business_day(now, time_zone or "UTC")


def _notify(events: Events | None, public_id: str, client_public_id: str) -> None:
    """After the commit: the quote's open pages, the client's (the new invoice) and the business's list."""
    if events is not None:
        events.publish(quote_topic(public_id))
        events.publish(client_documents_topic(client_public_id))
        events.publish(QUOTES_TOPIC)
