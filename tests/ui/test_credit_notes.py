"""A credit note's page and PDF in the portal, for the client's own people only."""

from __future__ import annotations

import io

from nicegui import ui
from pypdf import PdfReader
from sqlalchemy import select

from models import CreditNote, PortalUser
from services import portal
from services.credit_notes import CreditNoteDocument, get_credit_note
from services.dates import format_day
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.money import format_money
from services.principal import Principal
from tests.ui.conftest import post_login


def demo_credit_note() -> CreditNoteDocument:
    """The demo customer's CN-00001, as the service reads it for them."""
    db = portal.current().db
    with db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        note = session.scalars(select(CreditNote).where(CreditNote.client_id == user.client_id)).one()
        principal = Principal(user.id, user.client_id, note.organization_id, user.name, user.email, 0)
    return get_credit_note(db, principal, note.public_id)


async def test_the_page_shows_the_lines_what_the_credit_paid_and_what_remains(user):
    note = demo_credit_note()
    (applied,) = note.uses
    await post_login(user)
    await user.open(f"/credit-notes/{note.public_id}")
    await user.should_see(f"Credit Note {note.number}")
    await user.should_see("Open")
    (lines,) = user.find(ui.table).elements
    assert [(row["description"], row["amount"]) for row in lines.rows] == [
        ("Goodwill credit for the delayed photo shoot", "$120.00")
    ]
    await user.should_see(format_day(note.issue_date))
    await user.should_see(f"Applied to {applied.invoice_number} on {format_day(applied.day)}")
    await user.should_see(f"-{format_money(applied.amount)}")
    (remaining,) = user.find(marker="credit-note-remaining").elements
    assert remaining.text == format_money(note.remaining) == "$70.00"  # $120.00 less $50.00 applied
    await user.should_see(f"Credit Remaining {format_money(note.remaining)}")
    await user.should_see("Delivery was two weeks late.")
    (use,) = user.find(marker="credit-note-use").elements
    assert use.props["href"] == f"/invoices/{applied.invoice_public_id}"  # the invoice it paid, a link
    (download,) = user.find(marker="credit-note-download").elements
    assert download.props["href"] == f"/credit-notes/{note.public_id}/pdf?download=1"


async def test_another_client_and_a_visitor_cannot_see_it(user):
    note = demo_credit_note()
    signed_out = await user.http_client.get(f"/credit-notes/{note.public_id}")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"].startswith("/login?next=%2Fcredit-notes%2F")
    assert (await user.http_client.get(f"/credit-notes/{note.public_id}/pdf")).status_code == 303
    await post_login(user, email=OTHER_CUSTOMER_EMAIL)
    assert (await user.http_client.get(f"/credit-notes/{note.public_id}")).status_code == 404
    assert (await user.http_client.get(f"/credit-notes/{note.public_id}/pdf")).status_code == 404
    assert (await user.http_client.get("/credit-notes/no-such-note")).status_code == 404


async def test_the_pdf_is_served_to_its_client_and_never_cached(user):
    note = demo_credit_note()
    await post_login(user)
    response = await user.http_client.get(f"/credit-notes/{note.public_id}/pdf?download=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-disposition"] == f'attachment; filename="{note.number}.pdf"'
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert f"# {note.number}" in text
    assert f"Credit Remaining {format_money(note.remaining)}" in text
    assert "Goodwill credit for the delayed photo shoot" in text
    assert reader.metadata is not None
    assert reader.metadata.title == f"Credit Note {note.number}"
