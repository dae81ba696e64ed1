"""Pay links: the link in an invoice e-mail that opens that one invoice, to pay it without signing in.

Each e-mail that sends an invoice carries a link of its own with a random token, of which only the
SHA-256 is kept (``PayLink``); the outbox holds the link sealed until the e-mail is sent. The link
shows that invoice and pays it, nothing else of the client: it opens no session, and it stops working
when the invoice is paid in full or voided, when the business revokes it, or after the business's
``pay_link_days`` (60 to begin with, 1 to 365 in Settings > Payments). Unknown tokens are counted per IP
address and refused after 30 in an hour; payments are counted per link (10 an hour, against card
testing), and each is an audit event, before the gateway is asked and again with the payment it made,
which is how the link's holder, and nobody else, may download that payment's receipt afterwards.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import AuditEvent, Client, Invoice, InvoiceStatus, Organization, PayLink
from services.audit import events_from_address, record_event
from services.auth import token_hash
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound, PayLinkUnusable, PaymentInDoubt
from services.gateways.base import ChargeRequest, PaymentGateway
from services.i18n import N_, _
from services.online_payments import PaymentOutcome, complete_action, pay, plan_pay_invoice
from services.payments_made import PaymentDetail, payment_of_client
from services.staff_auth import StaffPrincipal, require_owner

PATH = "/pay-link"  # the public page that takes ?token=...
UNKNOWN_PER_ADDRESS_PER_HOUR = 30
PAYMENTS_PER_LINK_PER_HOUR = 10
REFUSED = "pay_link.refused"
PAYMENT = "pay_link.payment"
PAID = "pay_link.paid"  # the payment an attempt made, with its status
REVOKED = "pay_link.revoked"
DAYS_UPDATED = "business.pay_link_days_updated"
DEFAULT_DAYS = 60
MIN_DAYS, MAX_DAYS = 1, 365
DAYS_OUT_OF_RANGE = N_("Enter a whole number of days from 1 to 365.")
_MAX_TOKEN_LENGTH = 100

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkPayer:
    """Pays for the client through a pay link, as a signed-in customer would, with no login of theirs."""

    client_id: int
    organization_id: int
    email: str  # the client's own, for the gateway's customer record and the receipt
    name: str
    portal_user_id: int | None = None


@dataclass(frozen=True)
class OpenedLink:
    payer: LinkPayer
    invoice_public_id: str
    link_id: int


def issue_pay_link(session: Session, invoice: Invoice, *, now: datetime) -> tuple[str, datetime]:
    """A new link for ``invoice``, in the caller's transaction (the e-mail's): its token and expiry."""
    days = session.scalar(
        select(Organization.pay_link_days).where(Organization.id == invoice.organization_id)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=days or DEFAULT_DAYS)
    session.add(
        PayLink(invoice_id=invoice.id, token_hash=token_hash(token), created_at=now, expires_at=expires_at)
    )
    return token, expires_at


def pay_link_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{PATH}?token={token}"


def open_pay_link(db: Database, token: str, *, ip_address: str, clock: Clock = utc_now) -> OpenedLink:
    """Who pays and which invoice, for a usable link; ``PayLinkUnusable`` saying why not otherwise.

    A token that matches no link is recorded against the IP address, and that address is refused for
    an hour after 30 of them, so tokens cannot be guessed by trying.
    """
    now = clock()
    link, invoice, client = _find(db, token, ip_address, now)
    _check(link, invoice, now)
    return _opened(link, invoice, client)


def pay_by_link(
    db: Database,
    gateway: PaymentGateway,
    token: str,
    request: ChargeRequest,
    *,
    ip_address: str,
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """Pay what the link's invoice still owes (and is not already being paid) with the method in
    ``request``. Every attempt is an audit event first, and again with the payment it made (``PAID``:
    what lets the link's holder download that payment's receipt); beyond 10 attempts in an hour
    through one link the link refuses (``PayLinkUnusable("throttled")``). Everything else is as
    ``online_payments.pay``."""
    opened = open_pay_link(db, token, ip_address=ip_address, clock=clock)
    now = clock()
    with db.transaction() as session:
        tries = session.scalar(
            select(func.count()).where(
                AuditEvent.action == PAYMENT,
                AuditEvent.subject_type == "pay_link",
                AuditEvent.subject_id == opened.link_id,
                AuditEvent.created_at > now - timedelta(hours=1),
            )
        )
        if (tries or 0) >= PAYMENTS_PER_LINK_PER_HOUR:
            raise PayLinkUnusable("throttled")
        record_event(
            session,
            PAYMENT,
            at=now,
            client_id=opened.payer.client_id,
            subject=("pay_link", opened.link_id),
            ip_address=ip_address,
            details={"invoice": opened.invoice_public_id},
        )
    plan = plan_pay_invoice(db, opened.payer, opened.invoice_public_id, clock=clock)
    try:
        outcome = pay(db, gateway, opened.payer, plan, request, clock=clock)
    except PaymentInDoubt as error:
        _record_paid(db, opened, error.payment_public_id, "in_doubt", ip_address, clock)
        raise
    _record_paid(db, opened, outcome.payment_public_id, outcome.status, ip_address, clock)
    return outcome


def complete_by_link(
    db: Database,
    gateway: PaymentGateway,
    token: str,
    payment_public_id: str,
    *,
    ip_address: str,
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """The browser finished (or abandoned) a card's 3-D Secure challenge for a payment made through
    this link: book what the gateway now says (``online_payments.complete_action``). Only a payment
    made through this very link; ``NotFound`` for any other."""
    opened = open_pay_link(db, token, ip_address=ip_address, clock=clock)
    _made_through(db, opened.link_id, payment_public_id)
    outcome = complete_action(db, gateway, opened.payer, payment_public_id, clock=clock)
    _record_paid(db, opened, payment_public_id, outcome.status, ip_address, clock)
    return outcome


def link_receipt(
    db: Database, token: str, payment_public_id: str, *, ip_address: str, clock: Clock = utc_now
) -> PaymentDetail:
    """The receipt of a payment made through this link, for whoever holds the link: that payment's
    only. The link may have paid its invoice in full since, but not be revoked or out of date
    (``PayLinkUnusable``); a payment not made through it, or without a receipt (failed, processing),
    is ``NotFound``. An unknown token counts against the address as in ``open_pay_link``."""
    now = clock()
    link, _invoice, client = _find(db, token, ip_address, now)
    if link.revoked_at is not None:
        raise PayLinkUnusable("revoked")
    if now >= link.expires_at:
        raise PayLinkUnusable("expired")
    _made_through(db, link.id, payment_public_id)
    payment = payment_of_client(db, client.id, payment_public_id)
    if not payment.is_receipt:
        raise NotFound("payment", payment_public_id)
    return payment


def revoke_pay_links(
    db: Database,
    organization_id: int,
    invoice_public_id: str,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> int:
    """Stop every link sent for the business's invoice; returns how many were still working."""
    now = clock()
    with db.transaction() as session:
        invoice = session.scalar(
            select(Invoice).where(
                Invoice.public_id == invoice_public_id, Invoice.organization_id == organization_id
            )
        )
        if invoice is None:
            raise NotFound("invoice", invoice_public_id)
        revoked = session.execute(
            update(PayLink)
            .where(PayLink.invoice_id == invoice.id, PayLink.revoked_at.is_(None), PayLink.expires_at > now)
            .values(revoked_at=now)
        )
        count = int(getattr(revoked, "rowcount", 0) or 0)
        record_event(
            session,
            REVOKED,
            at=now,
            staff_user_id=staff_user_id,
            client_id=invoice.client_id,
            subject=("invoice", invoice.id),
            details={"links": count},
        )
    return count


def live_pay_links(
    db: Database, organization_id: int, invoice_public_id: str, *, clock: Clock = utc_now
) -> int:
    """How many links sent for the business's invoice still open it (not revoked, not out of date)."""
    with db.reading() as session:
        count = session.scalar(
            select(func.count())
            .select_from(PayLink)
            .join(Invoice, Invoice.id == PayLink.invoice_id)
            .where(
                Invoice.public_id == invoice_public_id,
                Invoice.organization_id == organization_id,
                PayLink.revoked_at.is_(None),
                PayLink.expires_at > clock(),
            )
        )
    return int(count or 0)


def pay_link_days(db: Database, organization_id: int) -> int:
    """How many days a newly sent pay link works."""
    with db.reading() as session:
        days = session.scalar(select(Organization.pay_link_days).where(Organization.id == organization_id))
    if days is None:
        raise NotFound("organization", organization_id)
    return int(days)


def set_pay_link_days(db: Database, owner: StaffPrincipal, days: int, *, clock: Clock = utc_now) -> int:
    """How long links sent from now on work (the owner only: ``OwnerOnly``): a whole number of days
    from 1 to 365, else ``InvalidDetails`` keyed ``pay_link_days`` and nothing changes. Links already
    sent keep the expiry they were sent with."""
    require_owner(owner)
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidDetails({"pay_link_days": _(DAYS_OUT_OF_RANGE)})
    with db.transaction() as session:
        organization = session.scalars(
            select(Organization).where(Organization.id == owner.organization_id).with_for_update()
        ).one()
        old = organization.pay_link_days
        if old != days:
            organization.pay_link_days = days
            record_event(
                session,
                DAYS_UPDATED,
                at=clock(),
                staff_user_id=owner.staff_user_id,
                subject=("organization", owner.organization_id),
                details={"old": old, "new": days},
            )
    return days


def _find(db: Database, token: str, ip_address: str, now: datetime) -> tuple[PayLink, Invoice, Client]:
    """The link a token opens, with its invoice and client, whatever their state; an unknown token is
    recorded against the address, which is refused for an hour after 30 of them."""
    with db.transaction() as session:
        if events_from_address(session, REFUSED, ip_address, since=now - timedelta(hours=1)) >= (
            UNKNOWN_PER_ADDRESS_PER_HOUR
        ):
            raise PayLinkUnusable("throttled")
        found = _link(session, token)
        if found is None:
            record_event(session, REFUSED, at=now, ip_address=ip_address)
    if found is None:
        raise PayLinkUnusable("unknown")
    return found


def _opened(link: PayLink, invoice: Invoice, client: Client) -> OpenedLink:
    payer = LinkPayer(
        client.id, client.organization_id, client.email, client.company_name or client.display_name
    )
    return OpenedLink(payer, invoice.public_id, link.id)


def _record_paid(
    db: Database, opened: OpenedLink, payment_public_id: str, status: str, ip_address: str, clock: Clock
) -> None:
    """Audit the payment an attempt through the link made. The charge is booked already, so a failure
    here is logged, never raised: the payer must not be told that nothing was charged."""
    try:
        with db.transaction() as session:
            record_event(
                session,
                PAID,
                at=clock(),
                client_id=opened.payer.client_id,
                subject=("pay_link", opened.link_id),
                ip_address=ip_address,
                details={"invoice": opened.invoice_public_id, "payment": payment_public_id, "status": status},
            )
    except Exception:
        log.exception("pay link %s: payment %s was not audited", opened.link_id, payment_public_id)


def _made_through(db: Database, link_id: int, payment_public_id: str) -> None:
    """``NotFound`` unless the payment was made through the link (``PAID``; a few a link at most)."""
    with db.reading() as session:
        made = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.action == PAID,
                AuditEvent.subject_type == "pay_link",
                AuditEvent.subject_id == link_id,
            )
        ).all()
    if not any(details.get("payment") == payment_public_id for details in made):
        raise NotFound("payment", payment_public_id)


def _link(session: Session, token: str) -> tuple[PayLink, Invoice, Client] | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    row = session.execute(
        select(PayLink, Invoice, Client)
        .join(Invoice, Invoice.id == PayLink.invoice_id)
        .join(Client, Client.id == Invoice.client_id)
        .where(PayLink.token_hash == token_hash(token))
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def _check(link: PayLink, invoice: Invoice, now: datetime) -> None:
    if link.revoked_at is not None:
        raise PayLinkUnusable("revoked")
    if now >= link.expires_at:
        raise PayLinkUnusable("expired")
    if invoice.status == InvoiceStatus.VOID:
        raise PayLinkUnusable("voided")
    if invoice.status == InvoiceStatus.DRAFT:
        raise PayLinkUnusable("unknown")
    if invoice.balance_due_minor <= 0:
        raise PayLinkUnusable("paid")
