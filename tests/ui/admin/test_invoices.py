"""The back office's invoices: the list, one invoice, Send (with the customer's e-mail), Void, the PDF."""

from __future__ import annotations

from typing import cast

import pytest
from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from models import Allocation, AuditEvent, Client, Invoice, InvoiceStatus, OutboxEmail, PayLink, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.errors import PayLinkUnusable
from services.invoice_list import InvoiceListQuery, list_invoices
from services.invoices import NO_LINES_TO_SEND
from services.pay_links import issue_pay_link, open_pay_link
from services.principal import Principal
from tests.ui.admin.conftest import set_value, until
from tests.ui.admin.test_invoice_editor import WAIT, demo_client, newest_invoice, type_line


def invoice_where(*conditions: object) -> Invoice:
    with portal.current().db.reading() as session:
        invoice = session.scalars(select(Invoice).where(*conditions).order_by(Invoice.id)).first()  # type: ignore[arg-type]
        assert invoice is not None
        session.expunge(invoice)
        return invoice


def status_of(public_id: str) -> str:
    with portal.current().db.reading() as session:
        status = session.scalar(select(Invoice.status).where(Invoice.public_id == public_id))
        assert status is not None
        return status


def emails_to(address: str) -> list[OutboxEmail]:
    with portal.current().db.reading() as session:
        emails = list(session.scalars(select(OutboxEmail).where(OutboxEmail.to_addresses.contains(address))))
        for email in emails:
            session.expunge(email)
        return emails


def customer_invoice_numbers(email: str) -> set[str]:
    """What the customer's invoice list in the portal shows, through its own service."""
    current = portal.current()
    with current.db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == email)).one()
        client = session.get_one(Client, user.client_id)
        principal = Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)
    page = list_invoices(current.db, principal, InvoiceListQuery(page_size=100), today=current.clock().date())
    return {row.number for row in page.rows}


def invoice_table(user: User) -> ui.table:
    return cast(ui.table, next(iter(user.find(marker="invoice-table").elements)))


def table_rows(user: User) -> list[dict]:
    return invoice_table(user).rows


async def make_draft(user: User, *, description: str = "Brand guidelines", rate: str = "250") -> Invoice:
    client_id, _ = demo_client()
    await user.open(f"/admin/invoices/new?client={client_id}")
    if description:
        type_line(user, 0, description=description, quantity="1", rate=rate)
    user.find(kind=ui.button, content="Save as draft").click()
    await user.should_see("The draft was saved.", retries=WAIT)
    return newest_invoice()


async def test_the_list_shows_every_invoice_with_client_and_status(owner: User) -> None:
    draft = await make_draft(owner)
    await owner.open("/admin/invoices")
    await owner.should_see("New invoice")
    await owner.should_see("New retainer invoice")
    rows = table_rows(owner)
    assert draft.number in {row["number"] for row in rows}
    assert {"Bluebird Cafe", "Kowalski Translations"} <= {row["client"] for row in rows}
    assert {"Draft", "Paid"} <= {row["status"] for row in rows}
    mine = next(row for row in rows if row["number"] == draft.number)
    assert (mine["total"], mine["balance"]) == ("$250.00", "$250.00")


async def test_the_list_filters_by_status_and_kind_and_searches(owner: User) -> None:
    draft = await make_draft(owner)
    await owner.open("/admin/invoices")
    table = invoice_table(owner)

    set_value(owner, "status-filter", "draft")
    await until(lambda: {row["status"] for row in table.rows} == {"Draft"})
    assert draft.number in {row["number"] for row in table.rows}

    set_value(owner, "status-filter", "")
    set_value(owner, "kind-filter", "retainer")
    await until(lambda: bool(table.rows) and all(row["retainer"] for row in table.rows))

    set_value(owner, "kind-filter", "")
    set_value(owner, "invoice-search", "kowalski")
    await until(
        lambda: bool(table.rows) and {row["client"] for row in table.rows} == {"Kowalski Translations"}
    )


async def test_sending_a_draft_shows_it_to_the_customer_and_emails_the_link(owner: User) -> None:
    assert customer_invoice_numbers(CUSTOMER_EMAIL)  # the demo customer has issued invoices already
    draft = await make_draft(owner)
    assert draft.number not in customer_invoice_numbers(CUSTOMER_EMAIL)  # drafts never show

    owner.find(kind=ui.button, content="Send").click()
    owner.find(kind=ui.button, content="Send invoice").click()
    await owner.should_see("The invoice was sent", retries=WAIT)
    assert status_of(draft.public_id) == InvoiceStatus.SENT
    assert next(iter(owner.find(marker="invoice-status").elements)).text == "Sent"  # type: ignore[attr-defined]
    assert draft.number in customer_invoice_numbers(CUSTOMER_EMAIL)

    [email] = [e for e in emails_to(CUSTOMER_EMAIL) if draft.number in e.subject]
    link = f"{portal.current().settings.public_url}/invoices/{draft.public_id}"
    assert link in email.body_text
    assert "$250.00" in email.body_text


async def test_sending_an_invoice_without_lines_is_refused(owner: User) -> None:
    draft = await make_draft(owner, description="")
    assert draft.total_minor == 0
    owner.find(kind=ui.button, content="Send").click()
    owner.find(kind=ui.button, content="Send invoice").click()
    await owner.should_see(NO_LINES_TO_SEND, retries=WAIT)
    assert status_of(draft.public_id) == InvoiceStatus.DRAFT
    assert not [e for e in emails_to(CUSTOMER_EMAIL) if draft.number in e.subject]


async def test_voiding_an_open_invoice(owner: User) -> None:
    draft = await make_draft(owner)
    owner.find(kind=ui.button, content="Send").click()
    owner.find(kind=ui.button, content="Send invoice").click()
    await owner.should_see("The invoice was sent", retries=WAIT)
    owner.find(kind=ui.button, content="Void").click()
    await owner.should_see(f"Void invoice {draft.number}?")
    owner.find(kind=ui.button, content="Void invoice").click()
    await owner.should_see("The invoice was voided.", retries=WAIT)
    assert status_of(draft.public_id) == InvoiceStatus.VOID
    await owner.should_not_see("Void invoice")


async def test_an_invoice_with_payments_cannot_be_voided(owner: User) -> None:
    with portal.current().db.reading() as session:
        paid_part = session.scalars(
            select(Invoice)
            .join(Allocation, Allocation.invoice_id == Invoice.id)
            .where(Invoice.status == InvoiceStatus.PARTIALLY_PAID)
        ).first()
        assert paid_part is not None
        public_id, number = paid_part.public_id, paid_part.number
    await owner.open(f"/admin/invoices/{public_id}")
    owner.find(kind=ui.button, content="Void").click()
    owner.find(kind=ui.button, content="Void invoice").click()
    await owner.should_see(
        f"The invoice {number} has payments or credits applied; remove them first.", retries=WAIT
    )
    assert status_of(public_id) == InvoiceStatus.PARTIALLY_PAID


async def test_the_invoice_page_shows_payments_applied_and_balance(owner: User) -> None:
    invoice = invoice_where(Invoice.status == InvoiceStatus.PARTIALLY_PAID)
    await owner.open(f"/admin/invoices/{invoice.public_id}")
    badge = next(iter(owner.find(marker="invoice-status").elements)).text  # type: ignore[attr-defined]
    assert badge in ("Partially Paid", "Overdue")
    await owner.should_see("Payment ")
    balance = next(iter(owner.find(marker="document-balance").elements)).text  # type: ignore[attr-defined]
    assert balance == f"${invoice.balance_due_minor / 100:,.2f}"
    await owner.should_see("comment")
    await owner.should_not_see("Edit")


async def test_the_invoice_number_is_labelled_by_the_documents_kind(owner: User) -> None:
    retainer = invoice_where(Invoice.number.startswith("RET-"))
    await owner.open(f"/admin/invoices/{retainer.public_id}")
    await owner.should_see("Retainer invoice number")
    await owner.should_not_see("Retainer Invoice number")

    invoice = invoice_where(Invoice.number.startswith("INV-"))
    await owner.open(f"/admin/invoices/{invoice.public_id}")
    await owner.should_see("Invoice number")
    await owner.should_not_see("Retainer invoice number")


async def test_the_invoice_page_speaks_the_readers_language(owner: User) -> None:
    retainer = invoice_where(Invoice.number.startswith("RET-"))
    owner.http_client.headers["accept-language"] = "de-DE,de;q=0.9"
    await owner.open(f"/admin/invoices/{retainer.public_id}")
    await owner.should_see("Nummer der Vorauszahlungsrechnung")
    count = next(iter(owner.find(marker="comment-count").elements)).text  # type: ignore[attr-defined]
    assert count.endswith(("Kommentar", "Kommentare"))


async def test_staff_download_an_invoice_pdf_even_a_draft(owner: User) -> None:
    draft = await make_draft(owner)
    response = await owner.http_client.get(f"/admin/invoices/{draft.public_id}/pdf?download=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert (await owner.http_client.get("/admin/invoices/no-such-invoice/pdf")).status_code == 404


async def test_a_staff_member_who_is_not_the_owner_works_with_invoices(staff: User) -> None:
    draft = await make_draft(staff)
    staff.find(kind=ui.button, content="Send").click()
    staff.find(kind=ui.button, content="Send invoice").click()
    await staff.should_see("The invoice was sent", retries=WAIT)
    assert status_of(draft.public_id) == InvoiceStatus.SENT
    await staff.open("/admin/invoices")
    assert draft.number in {row["number"] for row in table_rows(staff)}


async def test_an_unknown_invoice_is_not_found(owner: User) -> None:
    response = await owner.http_client.get("/admin/invoices/not-a-real-id")
    assert response.status_code == 404


async def test_the_business_revokes_an_invoices_pay_links_after_confirming(owner: User) -> None:
    invoice = invoice_where(Invoice.status == InvoiceStatus.SENT, Invoice.balance_due_minor > 0)
    current = portal.current()
    with current.db.transaction() as session:
        token, _ = issue_pay_link(session, session.get_one(Invoice, invoice.id), now=current.clock())
    await owner.open(f"/admin/invoices/{invoice.public_id}")
    owner.find(marker="revoke-pay-links").click()
    await owner.should_see(f"Revoke the pay links of invoice {invoice.number}?")
    owner.find(kind=ui.button, content="Cancel").click()
    assert open_pay_link(current.db, token, ip_address="203.0.113.9").invoice_public_id == invoice.public_id
    owner.find(marker="revoke-pay-links").click()
    owner.find(kind=ui.button, content="Revoke links").click()
    await owner.should_see("The invoice's pay links were revoked", retries=WAIT)
    await owner.should_not_see(marker="revoke-pay-links")  # none left that still open it
    with pytest.raises(PayLinkUnusable) as refused:
        open_pay_link(current.db, token, ip_address="203.0.113.9")
    assert refused.value.reason == "revoked"
    with current.db.reading() as session:
        (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "pay_link.revoked")).all()
        assert (event.subject_id, event.details, event.staff_user_id is not None) == (
            invoice.id,
            {"links": 1},
            True,
        )


async def test_an_invoice_without_working_pay_links_offers_no_revoke(owner: User) -> None:
    draft = await make_draft(owner)
    await owner.should_not_see(marker="revoke-pay-links")
    with portal.current().db.reading() as session:
        assert session.scalars(select(PayLink).where(PayLink.invoice_id == draft.id)).all() == []
