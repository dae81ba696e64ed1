"""Quotes in the portal, as the demo customer sees them: the list, a quote's page, Accept with a typed
name, Decline with a reason, an expired quote, the PDF, and who may see what."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import select

from components.markup import Markup
from models import Client, Comment, Invoice, InvoiceKind, InvoiceStatus, PortalUser, Quote
from services import portal
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.principal import Principal
from services.quote_answers import accept_quote
from services.quotes import create_quote, send_quote
from services.totals import LineInput
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import post_login

WAIT = 100


def client_of(email: str) -> Client:
    with portal.current().db.reading() as session:
        client = session.scalars(
            select(Client)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == email)
        ).one()
        session.expunge(client)
        return client


def make_quote(
    email: str = CUSTOMER_EMAIL, *, send: bool = True, valid_days: int = 14, deposit: str = "0"
) -> str:
    """A quote for the client whose contact signs in with ``email``: 2 x 150.00 design at 10 % tax."""
    current = portal.current()
    client = client_of(email)
    today = current.clock().date()
    public_id = create_quote(
        current.db,
        client.organization_id,
        client_public_id=client.public_id,
        issue_date=today,
        valid_until=today + timedelta(days=valid_days),
        deposit_percent=Decimal(deposit),
        lines=[LineInput("Website design", Decimal(2), 150_00, tax_rate_percent=Decimal(10), tax_name="VAT")],
        notes="Start in two weeks.",
        clock=current.clock,
    )
    if send:
        send_quote(
            current.db, client.organization_id, public_id, base_url="http://portal.test", clock=current.clock
        )
    return public_id


def customer_principal(email: str = CUSTOMER_EMAIL) -> Principal:
    """The contact signing in with ``email``, as the services see them (another tab of theirs)."""
    client = client_of(email)
    with portal.current().db.reading() as session:
        contact = session.scalars(select(PortalUser).where(PortalUser.email == email)).one()
        return Principal(contact.id, client.id, client.organization_id, contact.name, contact.email, 0)


def sent_quotes_of(email: str) -> list[str]:
    """The public ids of the sent (or answered) quotes of the client whose contact signs in with ``email``."""
    client = client_of(email)
    with portal.current().db.reading() as session:
        return list(
            session.scalars(
                select(Quote.public_id).where(Quote.client_id == client.id, Quote.status != "draft")
            )
        )


def quote_row(public_id: str) -> Quote:
    with portal.current().db.reading() as session:
        quote = session.scalars(select(Quote).where(Quote.public_id == public_id)).one()
        session.expunge(quote)
        return quote


def invoice_of(quote: Quote) -> Invoice:
    with portal.current().db.reading() as session:
        invoice = session.get_one(Invoice, quote.invoice_id)
        session.expunge(invoice)
        return invoice


async def test_quotes_are_in_the_sidebar_and_list_my_sent_quotes_only(user: User):
    mine = make_quote()
    draft = make_quote(send=False)
    theirs = make_quote(OTHER_CUSTOMER_EMAIL)
    await post_login(user)
    await user.open("/")
    await user.should_see("Quotes")
    assert any('href="/quotes"' in element.content for element in user.find(Markup).elements)
    await user.open("/quotes")
    rows = {row["id"]: row["status"] for row in user.find(ui.table).elements.pop().rows}
    assert rows[mine] == "Sent"
    assert draft not in rows
    assert theirs not in rows
    assert set(rows) == set(sent_quotes_of(CUSTOMER_EMAIL))  # the demo's own quote too


async def test_the_quote_page_shows_its_lines_and_totals(user: User):
    public_id = make_quote()
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    lines = user.find(ui.table).elements.pop().rows
    assert [(line["description"], line["amount"]) for line in lines] == [("Website design", "$300.00")]
    await user.should_see(content="$330.00", marker="quote-total")  # 300.00 + 30.00 tax
    await user.should_see("Start in two weeks.")
    await user.should_see("Accept quote")


async def test_accepting_needs_a_typed_name_then_makes_the_invoice_shown_on_the_page(user: User):
    public_id = make_quote()
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    user.find(marker="accept-quote").click()
    await user.should_see("Type your full name to sign the acceptance.")
    assert quote_row(public_id).status == "sent"
    set_value(user, "signature", "Dana Demo")
    user.find(marker="accept-quote").click()
    await user.should_see("Signed: Dana Demo", retries=WAIT)
    quote = quote_row(public_id)
    invoice = invoice_of(quote)
    assert (quote.status, quote.signature_name) == ("accepted", "Dana Demo")
    assert (invoice.kind, invoice.status, invoice.total_minor) == (
        InvoiceKind.INVOICE,
        InvoiceStatus.SENT,
        330_00,
    )
    await user.should_see(f"{invoice.number} is now in your invoices")
    await user.should_see(content=invoice.number, marker="quote-invoice-link")
    await user.should_not_see("Accept quote")
    await user.open("/invoices")
    assert invoice.public_id in [row["id"] for row in user.find(ui.table).elements.pop().rows]


async def test_declining_needs_a_reason(user: User):
    public_id = make_quote()
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    user.find(marker="decline-quote").click()
    user.find(marker="confirm-decline").click()
    await user.should_see("Tell us why you decline the quote.")
    assert quote_row(public_id).status == "sent"
    set_value(user, "decline-reason", "We chose another studio.")
    user.find(marker="confirm-decline").click()
    await user.should_see("Reason: We chose another studio.", retries=WAIT)
    assert quote_row(public_id).decline_reason == "We chose another studio."


async def test_an_expired_quote_says_so_and_cannot_be_accepted(user: User):
    public_id = make_quote(valid_days=0)
    with portal.current().db.transaction() as session:  # its last day has passed since it was sent
        quote = session.scalars(select(Quote).where(Quote.public_id == public_id)).one()
        quote.valid_until -= timedelta(days=1)
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    await user.should_see("can no longer be accepted")
    await user.should_see(content="Expired", marker="quote-status")
    await user.should_not_see("Accept quote")


async def test_an_acceptance_in_another_tab_shows_on_this_one(user: User):
    public_id = make_quote(deposit="25")
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    await user.should_see("Accept quote")
    current = portal.current()
    accepted = accept_quote(
        current.db,
        customer_principal(),
        public_id,
        signature="Other Tab",
        ip_address="192.0.2.1",
        base_url="http://portal.test",
        events=current.events,
        clock=current.clock,
    )
    assert accepted.is_retainer
    await user.should_see("Signed: Other Tab", retries=WAIT)
    await user.should_not_see("Accept quote")
    assert invoice_of(quote_row(public_id)).total_minor == 82_50  # 25 % of 330.00


async def test_another_clients_quote_and_a_draft_are_not_found(user: User):
    theirs = make_quote(OTHER_CUSTOMER_EMAIL)
    draft = make_quote(send=False)
    await post_login(user)
    for public_id in (theirs, draft, "not-a-quote"):
        assert (await user.http_client.get(f"/quotes/{public_id}")).status_code == 404
        assert (await user.http_client.get(f"/quotes/{public_id}/pdf")).status_code == 404


async def test_the_pdf_says_quote_and_valid_until(user: User):
    public_id = make_quote()
    await post_login(user)
    response = await user.http_client.get(f"/quotes/{public_id}/pdf?download=1")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Quote" in text
    assert "Valid Until" in text
    assert "Website design" in text


async def test_a_comment_on_a_quote_is_kept_in_its_thread(user: User):
    public_id = make_quote()
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    set_value(user, "comment-box", "Could you start a week earlier?")
    user.find("Add Comment").click()
    quote_id = quote_row(public_id).id

    def bodies() -> list[str]:
        with portal.current().db.reading() as session:
            return list(session.scalars(select(Comment.body).where(Comment.quote_id == quote_id)))

    await until(lambda: bodies() == ["Could you start a week earlier?"])
    await user.should_see("You", retries=WAIT)  # the thread shows it as the reader's own


async def test_the_quote_page_its_refusals_and_its_pdf_are_in_the_readers_language(user: User):
    public_id = make_quote(deposit="10")
    user.http_client.headers["accept-language"] = "de"
    await post_login(user)
    await user.open(f"/quotes/{public_id}")
    await user.should_see("Angebot annehmen", retries=WAIT)
    await user.should_see("Ihre Antwort")
    await user.should_see("Anzahlung bei Annahme (10\u00a0%)")
    user.find(marker="accept-quote").click()  # no name typed: refused in the page's language
    await user.should_see("Geben Sie Ihren vollständigen Namen ein, um die Annahme zu unterschreiben.")
    response = await user.http_client.get(f"/quotes/{public_id}/pdf")
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Angebot" in text
    assert "Gültig bis" in text
