"""Pay links: the link in an invoice e-mail that opens that one invoice, to pay it without signing in.

Each e-mail that sends an invoice carries a link of its own with a random token, of which only the
SHA-256 is kept (``PayLink``); the outbox holds the link sealed until the e-mail is sent. The link
shows that invoice and pays it, nothing else of the client: it opens no session, and it stops working
when the invoice is paid in full or voided, when the business revokes it, or after the business's
``pay_link_days`` (60 to begin with). Unknown tokens are counted per IP address and refused after 30 in
an hour; payments are counted per link (10 an hour, against card testing), and each is an audit event.
"""

from __future__ import annotations

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
from services.errors import NotFound, PayLinkUnusable
from services.gateways.base import ChargeRequest, PaymentGateway
from services.online_payments import PaymentOutcome, pay, plan_pay_invoice

PATH = "/pay-link"  # the public page that takes ?token=...
UNKNOWN_PER_ADDRESS_PER_HOUR = 30
PAYMENTS_PER_LINK_PER_HOUR = 10
REFUSED = "pay_link.refused"
PAYMENT = "pay_link.payment"
REVOKED = "pay_link.revoked"
_MAX_TOKEN_LENGTH = 100


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
    expires_at = now + timedelta(days=days or 60)
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
    link, invoice, client = found
    _check(link, invoice, now)
    payer = LinkPayer(
        client.id, client.organization_id, client.email, client.company_name or client.display_name
    )
    return OpenedLink(payer, invoice.public_id, link.id)


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
    ``request``. Every attempt is an audit event first; beyond 10 in an hour through one link the link
    refuses (``PayLinkUnusable("throttled")``). Everything else is as ``online_payments.pay``."""
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
    return pay(db, gateway, opened.payer, plan, request, clock=clock)


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
