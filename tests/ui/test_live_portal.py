"""The customer's open pages follow what the business does, without a reload."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from models import Client, Invoice, InvoiceKind, InvoiceStatus, PaymentMethodKind, PortalUser
from services import portal
from services.api_keys import create_api_key
from services.business_documents import record_offline_payment
from services.demo import CUSTOMER_EMAIL
from services.events import client_documents_topic
from services.invoices import PAYABLE_STATUSES, create_invoice, send_invoice
from services.money import Money, format_money
from services.totals import LineInput
from tests.ui.admin.conftest import until
from tests.ui.conftest import balances_of, post_login

LIVE = 50  # retries of 0.1 s: an open page looks for news about once a second


@dataclass(frozen=True)
class DemoClient:
    id: int
    public_id: str
    organization_id: int


def demo_client() -> DemoClient:
    with portal.current().db.reading() as session:
        client = session.scalars(
            select(Client)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        return DemoClient(client.id, client.public_id, client.organization_id)


def publish(client: DemoClient) -> None:
    """What the business's pages and API do after a change the customer sees."""
    portal.current().events.publish(client_documents_topic(client.public_id))


def send_new_invoice(client: DemoClient, amount_minor: int) -> str:
    """The business sends the client a new invoice; its number."""
    current = portal.current()
    today = current.clock().date()
    ref = create_invoice(
        current.db,
        client_id=client.id,
        lines=[LineInput("Rush design work", Decimal(1), amount_minor)],
        issue_date=today,
        due_date=today + timedelta(days=30),
    )
    send_invoice(current.db, ref.id)
    publish(client)
    return ref.number


def an_open_invoice(client: DemoClient) -> tuple[str, str, Money]:
    """Public id, number and balance of one of the client's unpaid invoices."""
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .where(
                Invoice.client_id == client.id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.balance_due_minor > 0,
            )
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None
        return invoice.public_id, invoice.number, Money(invoice.balance_due_minor, invoice.currency)


def pay_in_cash(client: DemoClient, invoice_public_id: str, amount: Money) -> None:
    current = portal.current()
    record_offline_payment(
        current.db,
        client.organization_id,
        client_public_id=client.public_id,
        amount=amount,
        method=PaymentMethodKind.CASH,
        received_at=current.clock(),
        allocations={invoice_public_id: amount.minor},
    )
    publish(client)


def issued_count(client: DemoClient) -> int:
    with portal.current().db.reading() as session:
        return len(
            session.scalars(
                select(Invoice.id).where(
                    Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT
                )
            ).all()
        )


def shown_numbers(user: User) -> list[str]:
    table = user.find(ui.table).elements.pop()
    return [row["number"] for row in table.rows]


async def test_the_open_dashboard_shows_a_newly_sent_invoice_in_what_is_owed(user: User) -> None:
    client = demo_client()
    await post_login(user)
    await user.open("/")
    before = balances_of(CUSTOMER_EMAIL).outstanding
    await user.should_see(format_money(before))

    send_new_invoice(client, 123_400)

    after = balances_of(CUSTOMER_EMAIL).outstanding
    assert after.minor == before.minor + 123_400
    await user.should_see(format_money(after), retries=LIVE)
    await user.should_not_see(format_money(before))


async def test_the_open_dashboard_shows_a_payment_the_business_recorded(user: User) -> None:
    client = demo_client()
    public_id, _, balance = an_open_invoice(client)
    await post_login(user)
    await user.open("/")
    before = balances_of(CUSTOMER_EMAIL)
    await user.should_see(format_money(before.outstanding))

    pay_in_cash(client, public_id, balance)

    after = balances_of(CUSTOMER_EMAIL)
    assert after.outstanding.minor == before.outstanding.minor - balance.minor
    await user.should_see(format_money(after.outstanding), retries=LIVE)
    await user.should_not_see(format_money(before.outstanding))


async def test_the_open_invoice_shows_it_paid_once_the_business_records_the_payment(user: User) -> None:
    client = demo_client()
    public_id, _, balance = an_open_invoice(client)
    await post_login(user)
    await user.open(f"/invoices/{public_id}")
    await user.should_see(f"Balance Due {format_money(balance)}")
    await user.should_see(marker="pay-now")

    pay_in_cash(client, public_id, balance)

    zero = Money(0, balance.currency)
    await user.should_see(f"Balance Due {format_money(zero)}", retries=LIVE)
    await user.should_see("Paid")
    await user.should_not_see(marker="pay-now")
    with portal.current().db.reading() as session:
        status = session.scalars(select(Invoice.status).where(Invoice.public_id == public_id)).one()
    assert status == InvoiceStatus.PAID


async def test_a_comment_being_typed_survives_the_invoice_refreshing(user: User) -> None:
    client = demo_client()
    public_id, _, balance = an_open_invoice(client)
    await post_login(user)
    await user.open(f"/invoices/{public_id}")
    await user.should_see("Add Comment")
    box = user.find(marker="comment-box").elements.pop()
    assert isinstance(box, ui.textarea)
    box.value = "Half now, half next week"

    pay_in_cash(client, public_id, Money(balance.minor // 2, balance.currency))

    rest = Money(balance.minor - balance.minor // 2, balance.currency)
    await user.should_see(f"Balance Due {format_money(rest)}", retries=LIVE)
    assert user.find(marker="comment-box").elements == {box}
    assert box.value == "Half now, half next week"


async def test_the_open_invoice_list_shows_a_newly_sent_invoice(user: User) -> None:
    client = demo_client()
    await post_login(user)
    await user.open("/invoices")
    await user.should_see(kind=ui.table)
    await until(lambda: bool(shown_numbers(user)))
    before = shown_numbers(user)

    number = send_new_invoice(client, 9_900)

    assert number not in before
    await until(lambda: number in shown_numbers(user))
    await user.should_see(f"{issued_count(client)} invoices")


async def test_a_payment_booked_over_the_rest_api_shows_on_the_open_invoice(user: User) -> None:
    client = demo_client()
    public_id, _, balance = an_open_invoice(client)
    key = create_api_key(portal.current().db, client.organization_id, "Books", staff_user_id=None).secret
    await post_login(user)
    await user.open(f"/invoices/{public_id}")
    await user.should_see(f"Balance Due {format_money(balance)}")

    response = await user.http_client.post(
        "/api/v1/payments",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "client_id": client.public_id,
            "amount_minor": balance.minor,
            "currency": balance.currency,
            "method": "bank_transfer",
            "allocations": {public_id: balance.minor},
        },
    )

    assert response.status_code == 201, response.text
    await user.should_see(f"Balance Due {format_money(Money(0, balance.currency))}", retries=LIVE)
