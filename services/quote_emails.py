"""The e-mail that tells a client a quote was sent: written to the outbox in the send's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Client, Organization, Quote
from services.dates import format_day
from services.i18n import _, formatting_locale
from services.invoice_emails import recipients
from services.language_settings import writing_for_client
from services.money import Money, format_money
from services.outbox import queue_email


def quote_link(base_url: str, quote_public_id: str) -> str:
    """Where the customer opens the quote in the portal (after signing in)."""
    return f"{base_url.rstrip('/')}/quotes/{quote_public_id}"


def queue_quote_sent_email(session: Session, quote: Quote, *, base_url: str, now: datetime) -> int | None:
    """Queue "quote sent" for the client's contacts, in their language; None when it has no address.

    It names the quote, its total and the last day it can be accepted, and links to it in the portal,
    where the customer accepts or declines it.
    """
    client = session.get_one(Client, quote.client_id)
    to = recipients(session, client)
    if not to:
        return None
    organization = session.get_one(Organization, quote.organization_id)
    with writing_for_client(session, client.id):
        locale = formatting_locale(organization.locale)
        values = {
            "business": organization.name,
            "number": quote.number,
            "amount": format_money(Money(quote.total_minor, quote.currency), locale),
            "valid_until": format_day(quote.valid_until, locale),
        }
        body = "\n".join(
            (
                _("Hello {name},").format(name=client.display_name),
                "",
                _("{business} has sent you quote {number}.").format(**values),
                "",
                _("Total: {amount}").format(**values),
                _("Valid until: {valid_until}").format(**values),
                "",
                _("Read it, download it, and accept or decline it in the portal:"),
                quote_link(base_url, quote.public_id),
                "",
                _("Thank you for your business."),
                organization.name,
            )
        )
        return queue_email(
            session,
            to=to,
            subject=_("Quote {number} from {business}: {amount}, valid until {valid_until}").format(**values),
            body_text=body,
            reply_to=organization.email,
            client_id=client.id,
            now=now,
        )
