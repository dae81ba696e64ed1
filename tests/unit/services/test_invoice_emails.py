"""Sending an invoice e-mails the client's contacts a link to it, in the send's own transaction."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from models import Client, InvoiceKind, InvoiceStatus, Organization, OutboxAttachment, OutboxEmail, PortalUser
from services import business_documents
from services.attachment_rendering import render_attachment
from services.database import Database
from services.draft_invoices import create_draft
from services.errors import InvalidDetails, InvalidStatusChange
from services.invoices import create_invoice
from services.totals import LineInput
from tests.factories import TODAY, fixed_clock, make_client, make_organization, make_portal_user

BASE_URL = "https://billing.example.com"


@pytest.fixture
def setup(db: Database) -> tuple[int, int]:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    make_portal_user(db, client_id, "ann@client.example")
    return organization_id, client_id


def draft(db: Database, client_id: int) -> str:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Website care", Decimal(1), 45000)],
        issue_date=TODAY,
        due_date=TODAY.replace(day=30),
        clock=fixed_clock,
    )
    return ref.public_id


def outbox(db: Database) -> list[OutboxEmail]:
    with db.reading() as session:
        emails = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        for email in emails:
            session.expunge(email)
        return emails


def send(db: Database, organization_id: int, public_id: str) -> None:
    business_documents.send_invoice(db, organization_id, public_id, base_url=BASE_URL, clock=fixed_clock)


def test_sending_queues_one_email_with_number_amount_due_date_and_link(db: Database, setup) -> None:
    organization_id, _ = setup
    public_id = draft(db, setup[1])
    send(db, organization_id, public_id)
    [email] = outbox(db)
    assert email.to_addresses.split(",") == ["ann@client.example", "billing@clientltd.example"]
    assert "INV-" in email.subject
    assert "$450.00" in email.subject
    assert f"{BASE_URL}/invoices/{public_id}" in email.body_text
    assert "Amount due: $450.00" in email.body_text
    assert "Due date: Jun 30, 2026" in email.body_text
    assert email.reply_to == "hello@acme.example"


def test_disabled_contacts_are_not_emailed(db: Database, setup) -> None:
    organization_id, client_id = setup
    with db.transaction() as session:
        for user in session.scalars(select(PortalUser).where(PortalUser.client_id == client_id)):
            user.is_active = False
    send(db, organization_id, draft(db, client_id))
    [email] = outbox(db)
    assert email.to_addresses == "billing@clientltd.example"


def test_a_client_without_any_address_gets_no_email_but_the_invoice_is_sent(db: Database) -> None:
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    with db.transaction() as session:
        session.get_one(Client, client_id).email = ""
    public_id = draft(db, client_id)
    send(db, organization_id, public_id)
    assert outbox(db) == []
    assert business_documents.get_invoice(db, organization_id, public_id).status == InvoiceStatus.SENT


def test_a_refused_send_queues_nothing(db: Database, setup) -> None:
    organization_id, client_id = setup
    public_id = draft(db, client_id)
    send(db, organization_id, public_id)
    with pytest.raises(InvalidStatusChange):
        send(db, organization_id, public_id)  # sent already
    assert len(outbox(db)) == 1


def test_an_invoice_without_lines_is_not_sent_and_nothing_is_queued(db: Database, setup) -> None:
    organization_id, client_id = setup
    with db.reading() as session:
        client_public_id = session.get_one(Client, client_id).public_id
    empty = create_draft(
        db,
        organization_id,
        client_public_id=client_public_id,
        kind=InvoiceKind.INVOICE,
        issue_date=TODAY,
        due_date=TODAY,
        lines=[],
        clock=fixed_clock,
    )
    with pytest.raises(InvalidDetails) as refused:
        send(db, organization_id, empty.public_id)
    assert "lines" in refused.value.errors
    assert outbox(db) == []
    assert business_documents.get_invoice(db, organization_id, empty.public_id).status == InvoiceStatus.DRAFT


def test_the_status_change_and_the_email_commit_together(db: Database, setup, monkeypatch) -> None:
    """An e-mail that cannot be queued leaves the invoice a draft: neither happens without the other."""
    organization_id, client_id = setup
    public_id = draft(db, client_id)

    def broken(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(business_documents, "queue_invoice_sent_email", broken)
    with pytest.raises(RuntimeError):
        send(db, organization_id, public_id)
    assert business_documents.get_invoice(db, organization_id, public_id).status == InvoiceStatus.DRAFT


def test_with_e_invoices_the_email_carries_the_factur_x_pdf(db: Database, setup) -> None:
    organization_id, client_id = setup
    with db.transaction() as session:
        session.execute(
            update(Organization)
            .where(Organization.id == organization_id)
            .values(tax_id="DE123456789", country="DE", e_invoices=True)
        )
        session.execute(update(Client).where(Client.id == client_id).values(country="FR"))
    public_id = draft(db, client_id)
    send(db, organization_id, public_id)
    [email] = outbox(db)
    assert "The invoice is attached as a PDF." in email.body_text
    with db.reading() as session:
        attachment = session.scalars(select(OutboxAttachment)).one()
    assert attachment.filename.endswith(".pdf")
    # What the sender attaches when it sends the message: the e-invoice, with its XML.
    pdf = PdfReader(BytesIO(render_attachment(db, attachment.rendered_from)))
    assert list(pdf.attachments) == ["factur-x.xml"]


def test_without_e_invoices_the_email_only_links_to_the_invoice(db: Database, setup) -> None:
    organization_id, client_id = setup
    send(db, organization_id, draft(db, client_id))
    [email] = outbox(db)
    assert "attached" not in email.body_text
    with db.reading() as session:
        assert session.scalars(select(OutboxAttachment)).all() == []
