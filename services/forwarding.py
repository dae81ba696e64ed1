"""Forward an invoice by e-mail with its PDF: queued in the outbox, limited so it cannot spread spam."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from models import Invoice
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidEmail
from services.i18n import _
from services.i18n.terms import term
from services.invoice_detail import get_invoice
from services.money import format_money
from services.outbox import Attachment, queue_email, secret_link
from services.pay_links import issue_pay_link, pay_link_url
from services.pdf.invoice import render_invoice_pdf
from services.principal import Principal
from services.rate_limits import FORWARDS, take

FORWARDS_PER_HOUR = FORWARDS.most
MAX_RECIPIENTS = 5
MAX_NOTE_LENGTH = 1000
FORWARDED = FORWARDS.action


@dataclass(frozen=True)
class ForwardReceipt:
    recipients: tuple[str, ...]
    forwards_left_this_hour: int


def split_addresses(text: str) -> list[str]:
    """Addresses as people type them: separated by commas, semicolons, spaces or new lines."""
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


def forward_invoice(
    db: Database,
    principal: Principal,
    public_id: str,
    *,
    recipients: list[str],
    note: str = "",
    today: date,
    base_url: str = "",
    clock: Clock = utc_now,
) -> ForwardReceipt:
    """E-mail the client's invoice, its PDF attached, to up to five addresses; 20 forwards an hour per
    client (``ForwardLimitReached``). With ``base_url`` (the portal's public address) an invoice with a
    balance due carries a pay link (``services.pay_links``), for whoever pays it for the client."""
    unique = list(dict.fromkeys(address.strip().lower() for address in recipients if address.strip()))
    if not unique:
        raise InvalidEmail("recipient", "", "is missing: enter at least one e-mail address")
    if len(unique) > MAX_RECIPIENTS:
        raise InvalidEmail("recipient list", "", f"has more than {MAX_RECIPIENTS} addresses")
    note = note.strip()[:MAX_NOTE_LENGTH]
    document = get_invoice(db, principal, public_id, today=today, with_logo=True)
    pdf = render_invoice_pdf(document)  # before the transaction: rendering holds no lock
    now = clock()
    with db.transaction() as session:
        left = take(session, FORWARDS, principal.client_id, now=now)
        invoice = session.scalars(select(Invoice).where(Invoice.public_id == public_id)).one()
        invoice_id = invoice.id
        business = document.business
        # Written by the customer who forwards it, so in their language (the page's reader).
        values = {"name": principal.name, "number": document.number, "business": business.name}
        lines = [
            _("{name} forwarded you {document} {number} from {business}.").format(
                document=term(document.title.lower()), **values
            ),
            "",
        ]
        if note:
            lines += [_("Their message: {note}").format(note=note), ""]
        lines += [
            _("Total: {amount}").format(amount=format_money(document.total, document.locale)),
            _("Balance due: {amount}").format(amount=format_money(document.balance_due, document.locale)),
            "",
        ]
        if base_url and document.balance_due.minor > 0:
            token, expires_at = issue_pay_link(session, invoice, now=now)
            link = secret_link(pay_link_url(base_url, token), expires_at)
            lines += [_("Pay it online now, no sign-in needed:"), link, ""]
        lines += [
            (
                _("The invoice is attached as a PDF. Questions about it go to {business} at {email}.")
                if business.email
                else _("The invoice is attached as a PDF. Questions about it go to {business}.")
            ).format(business=business.name, email=business.email),
        ]
        queue_email(
            session,
            to=unique,
            subject=_("{document} {number} from {business}").format(document=term(document.title), **values),
            body_text="\n".join(lines),
            reply_to=business.email,
            attachments=[Attachment(f"{document.number}.pdf", "application/pdf", pdf)],
            client_id=principal.client_id,
            now=now,
        )
        record_event(
            session,
            FORWARDED,
            at=now,
            portal_user_id=principal.portal_user_id,
            client_id=principal.client_id,
            subject=("invoice", invoice_id),
            details={"to": unique, "note": bool(note)},
        )
    return ForwardReceipt(tuple(unique), left)
