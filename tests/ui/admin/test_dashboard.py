"""The back office's dashboard shows what clients owe and what needs the business's attention."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import func, select

from models import OPEN_INVOICE_STATUSES, Client, Invoice, PortalUser
from services import portal
from services.comments import add_comment
from services.conversations import unread_count
from services.demo import CUSTOMER_EMAIL
from services.money import Money, format_money
from services.principal import Principal


def owed_in_usd() -> Money:
    with portal.current().db.reading() as session:
        total = session.scalar(
            select(func.sum(Invoice.balance_due_minor)).where(
                Invoice.status.in_(OPEN_INVOICE_STATUSES), Invoice.currency == "USD"
            )
        )
    return Money(int(total or 0), "USD")


def demo_customer_and_open_invoice() -> tuple[Principal, str]:
    with portal.current().db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        client = session.get(Client, user.client_id)
        assert client is not None
        invoice = session.scalars(
            select(Invoice.public_id).where(
                Invoice.client_id == client.id, Invoice.status.in_(OPEN_INVOICE_STATUSES)
            )
        ).first()
        assert invoice is not None
        return Principal(user.id, client.id, client.organization_id, user.name, user.email, 0), invoice


async def test_the_dashboard_shows_what_clients_owe(owner: User) -> None:
    owed = owed_in_usd()
    assert owed.minor > 0  # the demo has open invoices
    await owner.open("/admin")
    await owner.should_see("Outstanding (USD)")
    await owner.should_see(format_money(owed))
    await owner.should_see("Latest payments")


async def test_a_customer_comment_shows_as_an_unread_conversation(owner: User) -> None:
    customer, invoice = demo_customer_and_open_invoice()
    before = unread_count(portal.current().db, customer.organization_id)
    await owner.open("/admin")
    await owner.should_see(f"{before} unread conversation")
    add_comment(portal.current().db, customer, invoice, "Could you send a copy by post?")
    await owner.open("/admin")
    after = before + 1
    await owner.should_see(f"{after} unread conversation{'s' if after != 1 else ''}")


async def test_the_dashboard_leads_to_the_work(owner: User) -> None:
    await owner.open("/admin")
    for label in ("New invoice", "New client", "Record payment"):
        await owner.should_see(label)


async def test_record_payment_from_the_dashboard_opens_the_form(owner: User) -> None:
    await owner.open("/admin/payments?record=1")
    await owner.should_see("Money the client paid you directly")


async def test_the_payments_page_alone_keeps_the_form_closed(owner: User) -> None:
    await owner.open("/admin/payments")
    await owner.should_see("Record payment")
    await owner.should_not_see("Money the client paid you directly")
