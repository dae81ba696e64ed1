"""Quotes in the back office: the editor (the invoice editor's lines, a valid-until day and a deposit),
Send with its e-mail, the list, the customer's answer as staff see it, and who may open what."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import func, select

from models import AuditEvent, OutboxEmail, Quote
from services import portal
from services.comments import add_quote_comment, list_quote_comments
from services.demo import CUSTOMER_EMAIL
from services.money import format_money
from services.quote_answers import accept_quote, decline_quote
from services.totals import LineInput, document_totals
from tests.ui.admin.conftest import set_value, until
from tests.ui.admin.test_invoice_editor import WAIT, demo_client, shown, type_line
from tests.ui.conftest import post_login
from tests.ui.test_quotes import customer_principal, make_quote


def newest_quote() -> Quote:
    with portal.current().db.reading() as session:
        quote = session.scalars(select(Quote).order_by(Quote.id.desc())).first()
        assert quote is not None
        session.expunge(quote)
        return quote


def quote_count() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(Quote)) or 0


async def test_a_new_quote_shows_and_stores_the_totals_and_its_deposit(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open(f"/admin/quotes/new?client={client_id}")
    await owner.should_see("Currency: USD")
    type_line(owner, 0, description="Brand workshop", quantity="2", rate="450", discount="10")
    set_value(owner, "deposit", "30")
    expected = document_totals([LineInput("Brand workshop", Decimal(2), 450_00, Decimal(10))], "USD")
    assert shown(owner, "totals-total") == format_money(expected.total) == "$810.00"
    owner.find(marker="save-quote").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    quote = newest_quote()
    assert (quote.status, quote.total_minor, quote.deposit_percent) == ("draft", 810_00, Decimal(30))
    assert quote.number.startswith("QT-")
    await owner.should_see(content="$243.00", marker="quote-deposit")  # 30 % of $810.00
    await owner.should_see("Draft: the customer does not see it until it is sent.")


async def test_a_wrong_valid_until_or_deposit_is_refused_and_nothing_is_saved(owner: User) -> None:
    client_id, _ = demo_client()
    before = quote_count()
    await owner.open(f"/admin/quotes/new?client={client_id}")
    type_line(owner, 0, description="Logo", quantity="1", rate="100")
    set_value(owner, "deposit", "120")
    owner.find(marker="save-quote").click()
    await owner.should_see("Nothing was saved", retries=WAIT)
    set_value(owner, "deposit", "")
    today = portal.current().clock().date()
    set_value(owner, "valid-until", (today - timedelta(days=1)).isoformat())
    owner.find(marker="save-quote").click()
    await owner.should_see("The valid-until date cannot be before the issue date.", retries=WAIT)
    assert quote_count() == before


async def test_sending_a_quote_emails_the_customer_a_link_to_it(owner: User) -> None:
    public_id = make_quote(send=False)
    await owner.open(f"/admin/quotes/{public_id}")
    owner.find(marker="send-quote").click()
    owner.find(kind=ui.button, content="Send quote").click()
    await owner.should_see("The quote was sent", retries=WAIT)
    assert newest_quote().status == "sent"
    with portal.current().db.reading() as session:
        mail = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        assert mail is not None
        assert f"/quotes/{public_id}" in mail.body_text
        assert CUSTOMER_EMAIL in mail.to_addresses
        assert session.scalar(select(func.count()).where(AuditEvent.action == "quote.sent")) == 1
    await owner.open(f"/admin/quotes/{public_id}/edit")
    await owner.should_see("only drafts can be edited")


async def test_the_list_shows_every_quote_with_its_status(owner: User) -> None:
    sent = make_quote()
    draft = make_quote(send=False)
    await owner.open("/admin/quotes")
    rows = {row["id"]: row["status"] for row in owner.find(ui.table).elements.pop().rows}
    assert (rows[sent], rows[draft]) == ("Sent", "Draft")
    assert len(rows) == quote_count()  # the demo's own quote too
    await owner.should_see(f"{quote_count()} quotes")


async def test_staff_see_a_decline_with_its_reason_as_it_happens(owner: User) -> None:
    public_id = make_quote()
    await owner.open(f"/admin/quotes/{public_id}")
    await owner.should_see(content="Sent", marker="quote-status")
    current = portal.current()
    decline_quote(
        current.db,
        customer_principal(),
        public_id,
        reason="Over our budget.",
        ip_address="192.0.2.9",
        events=current.events,
        clock=current.clock,
    )
    await owner.should_see("Reason: Over our budget.", retries=WAIT)
    await owner.should_see(content="Declined", marker="quote-status")


async def test_staff_see_the_signature_address_and_the_invoice_of_an_accepted_quote(owner: User) -> None:
    public_id = make_quote()
    current = portal.current()
    accepted = accept_quote(
        current.db,
        customer_principal(),
        public_id,
        signature="Dana Demo",
        ip_address="198.51.100.23",
        base_url="http://portal.test",
        clock=current.clock,
    )
    await owner.open(f"/admin/quotes/{public_id}")
    await owner.should_see("Signed: Dana Demo")
    await owner.should_see("from the address 198.51.100.23")
    await owner.should_see(content=accepted.invoice_number, marker="quote-invoice-link")
    link = next(iter(owner.find(marker="quote-invoice-link").elements))
    assert link.props["href"] == f"/admin/invoices/{accepted.invoice_public_id}"


async def test_an_unknown_quote_is_not_found_and_customers_cannot_open_the_back_office(user: User) -> None:
    public_id = make_quote()
    await post_login(user)
    response = await user.http_client.get(f"/admin/quotes/{public_id}")
    assert response.status_code in (303, 307)  # a customer's session is no staff session: to the sign-in
    assert (await user.http_client.get(f"/admin/quotes/{public_id}/pdf")).status_code in (303, 307, 401, 403)


async def test_an_unknown_quote_is_not_found_by_staff(owner: User) -> None:
    assert (await owner.http_client.get("/admin/quotes/not-a-quote")).status_code == 404
    assert (await owner.http_client.get("/admin/quotes/not-a-quote/pdf")).status_code == 404
    public_id = make_quote(send=False)
    pdf = await owner.http_client.get(f"/admin/quotes/{public_id}/pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == f'inline; filename="{quote_number(public_id)}.pdf"'
    text = " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Status: Draft" in text  # staff see a draft's PDF; the customer does not (tests/ui/test_quotes.py)


async def test_a_quote_comment_is_in_conversations_and_the_reply_reaches_the_quote(owner: User) -> None:
    public_id = make_quote()
    number = quote_number(public_id)
    current = portal.current()
    add_quote_comment(
        current.db, customer_principal(), public_id, "Could you start in July?", clock=current.clock
    )
    await owner.open("/admin/conversations")
    await owner.should_see("1 unread")
    await owner.should_see(f"Comment on quote {number}")
    owner.find(marker=f"open-{public_id}").click()
    await owner.should_see("All read")
    link = owner.find(marker="view-quote").elements.pop()
    assert isinstance(link, ui.link)
    assert (link.text, link.props["href"]) == (f"View quote {number}", f"/admin/quotes/{public_id}")
    set_value(owner, f"reply-{public_id}", "July works for us.")
    owner.find(kind=ui.button, content="Reply").click()
    await owner.should_see("Reply sent. The customer sees it on the quote.", retries=WAIT)
    thread = list_quote_comments(current.db, customer_principal(), public_id)
    assert [(comment.body, comment.from_business) for comment in thread] == [
        ("Could you start in July?", False),
        ("July works for us.", True),
    ]


def quote_number(public_id: str) -> str:
    with portal.current().db.reading() as session:
        return session.scalars(select(Quote.number).where(Quote.public_id == public_id)).one()


async def test_a_clients_page_starts_a_quote_for_that_client(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open(f"/admin/clients/{client_id}")
    button = owner.find(marker="client-new-quote").elements.pop()
    assert button.props["href"] == f"/admin/quotes/new?client={client_id}"
    await owner.open(button.props["href"])
    await owner.should_see("Currency: USD")  # the client is chosen


async def test_the_list_filters_by_status_and_keeps_it_in_the_address(owner: User) -> None:
    sent = make_quote()
    make_quote(send=False)
    await owner.open("/admin/quotes?status=sent")
    rows = owner.find(ui.table).elements.pop().rows
    assert sent in [row["id"] for row in rows]
    assert {row["status"] for row in rows} == {"Sent"}
    set_value(owner, "quote-status-filter", "draft")
    table = owner.find(ui.table).elements.pop()
    await until(lambda: [row["status"] for row in table.rows] == ["Draft"])
