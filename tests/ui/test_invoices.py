"""The Invoices list and the invoice page, as the demo customer sees them."""

from __future__ import annotations

import io

from nicegui import ui
from pypdf import PdfReader
from sqlalchemy import select

from models import Client, Invoice, InvoiceStatus, OutboxAttachment, OutboxEmail, PortalUser, StaffUser
from services import portal
from services.comments import reply_as_business
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.invoices import PAYABLE_STATUSES
from services.money import Money, format_money
from tests.ui.conftest import post_login


def invoices_of(email: str) -> list[Invoice]:
    with portal.current().db.reading() as session:
        return list(
            session.scalars(
                select(Invoice)
                .join(Client, Client.id == Invoice.client_id)
                .join(PortalUser, PortalUser.client_id == Client.id)
                .where(PortalUser.email == email)
            )
        )


def shown_numbers(user) -> list[str]:
    table = user.find(ui.table).elements.pop()
    return [row["number"] for row in table.rows]


async def test_the_list_shows_every_issued_invoice_of_mine_and_no_draft(user):
    await post_login(user)
    await user.open("/invoices")
    mine = invoices_of(CUSTOMER_EMAIL)
    issued = {i.number for i in mine if i.status != InvoiceStatus.DRAFT}
    drafts = {i.number for i in mine if i.status == InvoiceStatus.DRAFT}
    others = {i.number for i in invoices_of(OTHER_CUSTOMER_EMAIL)}
    assert drafts
    assert others
    shown = set(shown_numbers(user))
    assert shown == issued
    assert not shown & drafts
    assert not shown & others
    await user.should_see(f"{len(issued)} invoices")


async def test_the_overdue_filter_in_the_url_shows_only_overdue_invoices(user):
    await post_login(user)
    await user.open("/invoices?filter=overdue")
    today = portal.current().clock().date()
    overdue = sorted(
        (i for i in invoices_of(CUSTOMER_EMAIL) if i.status in PAYABLE_STATUSES and i.due_date < today
         and i.kind == "invoice"),
        key=lambda i: i.issue_date,
        reverse=True,
    )  # fmt: skip
    assert overdue
    assert shown_numbers(user) == [i.number for i in overdue]
    table = user.find(ui.table).elements.pop()
    assert {row["status"] for row in table.rows} == {"Overdue"}


async def test_search_and_sort_come_from_the_url(user):
    await post_login(user)
    await user.open("/invoices?q=inv-0001&sort=total&desc=0")
    numbers = shown_numbers(user)
    matching = [i for i in invoices_of(CUSTOMER_EMAIL) if "INV-0001" in i.number and i.status != "draft"]
    assert numbers == [i.number for i in sorted(matching, key=lambda i: (i.total_minor, i.id))]


async def test_retainer_invoices_have_their_own_filter(user):
    await post_login(user)
    await user.open("/invoices?filter=retainer")
    assert shown_numbers(user) == ["RET-00002", "RET-00001"]


async def test_the_invoice_page_shows_lines_totals_applied_amounts_and_balance(user):
    await post_login(user)
    today = portal.current().clock().date()
    invoice = next(
        i
        for i in invoices_of(CUSTOMER_EMAIL)
        if i.status == InvoiceStatus.PARTIALLY_PAID and i.due_date >= today
    )
    applied = Money(invoice.total_minor - invoice.balance_due_minor, "USD")
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see(f"Invoice {invoice.number}")
    await user.should_see("Bluebird Cafe LLC")
    await user.should_see("Northwind Design Studio")
    await user.should_see(format_money(Money(invoice.total_minor, "USD")))
    await user.should_see(f"Balance Due {format_money(Money(invoice.balance_due_minor, 'USD'))}")
    await user.should_see("Partially Paid")
    await user.should_see("-" + format_money(applied))
    await user.should_see("Retainer payment RCPT-")
    table = user.find(ui.table).elements.pop()
    assert [row["description"] for row in table.rows] == ["Website maintenance (hours)"]
    assert table.rows[0]["quantity"] == "8"
    await user.should_see("Payment due within the stated term. Thank you for your business.")


async def test_viewed_is_recorded_once_with_the_time(user):
    await post_login(user)
    sent = next(i for i in invoices_of(CUSTOMER_EMAIL) if i.status == InvoiceStatus.SENT)
    assert sent.viewed_at is None
    await user.open(f"/invoices/{sent.public_id}")
    first = next(i for i in invoices_of(CUSTOMER_EMAIL) if i.id == sent.id)
    assert first.status == InvoiceStatus.VIEWED
    assert first.viewed_at is not None
    await user.open(f"/invoices/{sent.public_id}")
    again = next(i for i in invoices_of(CUSTOMER_EMAIL) if i.id == sent.id)
    assert again.viewed_at == first.viewed_at


async def test_another_clients_invoice_and_a_draft_are_not_found(user):
    await post_login(user)
    other = invoices_of(OTHER_CUSTOMER_EMAIL)[0]
    draft = next(i for i in invoices_of(CUSTOMER_EMAIL) if i.status == InvoiceStatus.DRAFT)
    for invoice in (other, draft):
        response = await user.http_client.get(f"/invoices/{invoice.public_id}")
        assert response.status_code == 404
    assert (await user.http_client.get("/invoices/not-a-real-id")).status_code == 404


async def test_signed_out_the_invoice_page_goes_to_the_login_page(user):
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    response = await user.http_client.get(f"/invoices/{invoice.public_id}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Finvoices%2F")


async def test_comments_are_shown_as_text_never_as_html(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    user.find(ui.textarea).type("<script>alert(1)</script> and <b>bold</b>")
    user.find("Add Comment").click()
    await user.should_see("<script>alert(1)</script> and <b>bold</b>", retries=20)


async def test_an_empty_comment_is_refused(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    user.find(ui.textarea).type("   ")
    user.find("Add Comment").click()
    await user.should_see("Write something before sending the comment.", retries=20)
    await user.should_see("No comments yet.")


async def test_a_reply_from_the_business_appears_on_the_open_page(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see("No comments yet.")
    current = portal.current()
    with current.db.reading() as session:
        owner = session.scalars(select(StaffUser.id)).one()
    reply_as_business(
        current.db, staff_user_id=owner, invoice_id=invoice.id, body="We have received your query.",
        events=current.events,
    )  # fmt: skip
    await user.should_see("We have received your query.", retries=40)


def bubbles(user, marker: str) -> list[tuple[list[str], list[str]]]:
    """Each comment with ``marker`` (``comment-ours`` or ``comment-theirs``): its texts and its classes."""
    return [
        ([label.text for label in bubble.descendants() if isinstance(label, ui.label)], bubble.classes)
        for bubble in user.find(marker=marker).elements
    ]


async def test_my_comment_sits_on_my_side_signed_you_and_the_business_reply_on_the_other(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    user.find(ui.textarea).type("Is the PO on it?")
    user.find("Add Comment").click()
    await user.should_see("Is the PO on it?", retries=20)
    current = portal.current()
    with current.db.reading() as session:
        owner = session.scalars(select(StaffUser.id)).one()
    reply = reply_as_business(
        current.db, staff_user_id=owner, invoice_id=invoice.id, body="Yes, it is.", events=current.events
    )
    await user.should_see("Yes, it is.", retries=40)

    [(mine, mine_classes)] = bubbles(user, "comment-ours")
    [(theirs, theirs_classes)] = bubbles(user, "comment-theirs")
    assert mine[0].startswith("You · ")
    assert mine[1] == "Is the PO on it?"
    assert "self-end" in mine_classes  # on the right, like a chat
    assert theirs[0].startswith(f"{reply.author} · ")
    assert theirs[1] == "Yes, it is."
    assert reply.author.endswith("(Northwind Design Studio)")
    assert "self-start" in theirs_classes


async def test_the_pdf_is_served_to_its_client_only_and_never_cached(user):
    await post_login(user)
    invoice = next(i for i in invoices_of(CUSTOMER_EMAIL) if i.status == InvoiceStatus.PAID)
    response = await user.http_client.get(f"/invoices/{invoice.public_id}/pdf?download=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert invoice.number in text
    assert "PAID" in text
    other = invoices_of(OTHER_CUSTOMER_EMAIL)[0]
    assert (await user.http_client.get(f"/invoices/{other.public_id}/pdf")).status_code == 404
    await user.http_client.post("/auth/logout")
    signed_out = await user.http_client.get(f"/invoices/{invoice.public_id}/pdf")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login")


async def test_forward_sends_the_invoice_to_the_outbox_with_its_pdf(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    user.find("Forward").click()
    user.find(marker="forward-to").type("accounts@partner.example, boss@partner.example")
    user.find(marker="forward-note").type("Please file this.")
    user.find(marker="forward-send").click()
    await user.should_see("Invoice sent to accounts@partner.example, boss@partner.example.", retries=30)
    with portal.current().db.reading() as session:
        [email] = session.scalars(select(OutboxEmail)).all()
        [attachment] = session.scalars(select(OutboxAttachment)).all()
    assert email.to_addresses == "accounts@partner.example,boss@partner.example"
    assert "Please file this." in email.body_text
    assert attachment.filename == f"{invoice.number}.pdf"


async def test_forward_with_a_bad_address_says_so_and_sends_nothing(user):
    await post_login(user)
    invoice = invoices_of(CUSTOMER_EMAIL)[0]
    await user.open(f"/invoices/{invoice.public_id}")
    user.find("Forward").click()
    user.find(marker="forward-to").type("not-an-address")
    user.find(marker="forward-send").click()
    await user.should_see(
        "The address 'not-an-address' must have one @ between a name and a domain.", retries=30
    )
    with portal.current().db.reading() as session:
        assert session.scalars(select(OutboxEmail)).all() == []


async def test_unpaid_rows_offer_pay_now_and_paid_ones_do_not(user):
    await post_login(user)
    await user.open("/invoices")
    table = user.find(ui.table).elements.pop()
    payable = {row["number"] for row in table.rows if row["payable"]}
    expected = {
        i.number
        for i in invoices_of(CUSTOMER_EMAIL)
        if i.status in PAYABLE_STATUSES and i.balance_due_minor > 0
    }
    assert payable == expected
    assert "INV-00001" not in payable  # paid
    assert "RET-00002" in payable  # an unpaid retainer invoice
