"""Payments Made in the portal: the list, its drop-down and sorting, a payment's page and its receipt PDF."""

from __future__ import annotations

import asyncio
from io import BytesIO

from nicegui import ui
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select, update

from models import Organization, Payment, PaymentKind, PaymentStatus, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.money import Money, format_money
from tests.ui.conftest import post_login


def demo_payments(email: str = CUSTOMER_EMAIL) -> list[Payment]:
    with portal.current().db.reading() as session:
        client_id = session.scalars(select(PortalUser.client_id).where(PortalUser.email == email)).one()
        return list(session.scalars(select(Payment).where(Payment.client_id == client_id)))


def table_rows(user) -> list[dict]:
    (table,) = user.find(kind=ui.table).elements
    return table.rows


async def test_the_list_shows_every_payment_and_the_drop_down_narrows_it(user):
    payments = demo_payments()
    retainers = [p for p in payments if p.kind == PaymentKind.RETAINER]
    assert retainers, "the demo has a retainer payment"
    await post_login(user)
    await user.open("/payments")
    await user.should_see("Payments Made")
    assert len(table_rows(user)) == len(payments)
    assert {row["receipt"] for row in table_rows(user)} == {p.receipt_number for p in payments}
    (choice,) = user.find(marker="payments-filter").elements
    choice.value = "retainer"
    await user.should_see(f"{len(retainers)} payment")
    assert [row["amount"] for row in table_rows(user)] == [
        format_money(Money(p.amount_minor, p.currency)) for p in retainers
    ]
    assert all(row["retainer"] for row in table_rows(user))
    choice.value = "invoice"
    await user.should_see(f"{len(payments) - len(retainers)} payment")
    assert not any(row["retainer"] for row in table_rows(user))


async def test_sorting_by_amount_both_ways(user):
    amounts = sorted(p.amount_minor for p in demo_payments())
    await post_login(user)
    await user.open("/payments?sort=amount&desc=0")
    ascending = [row["amount"] for row in table_rows(user)]
    assert ascending == [format_money(Money(minor, "USD")) for minor in amounts]
    user.find(kind=ui.table).trigger(
        "request", {"pagination": {"sortBy": "amount", "descending": True, "page": 1, "rowsPerPage": 25}}
    )
    for _ in range(100):
        if [row["amount"] for row in table_rows(user)] == ascending[::-1]:
            break
        await asyncio.sleep(0.05)
    assert [row["amount"] for row in table_rows(user)] == ascending[::-1]


async def test_a_payment_page_shows_the_receipt_and_its_pdf(user):
    paid = next(p for p in demo_payments() if p.status == PaymentStatus.SUCCEEDED and p.kind == "invoice")
    assert paid.receipt_number is not None
    await post_login(user)
    await user.open(f"/payments/{paid.public_id}")
    await user.should_see(f"Payment {paid.receipt_number}")
    await user.should_see("What it paid")
    await user.should_see("Download PDF")
    response = await user.http_client.get(f"/payments/{paid.public_id}/pdf?download=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="Receipt-{paid.receipt_number}.pdf"' in response.headers["content-disposition"]
    text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    assert paid.receipt_number in text
    assert format_money(Money(paid.amount_minor, paid.currency)) in text


async def test_another_customers_payment_and_its_receipt_are_not_found(user):
    theirs = demo_payments(OTHER_CUSTOMER_EMAIL)[0]
    await post_login(user)
    response = await user.http_client.get(f"/payments/{theirs.public_id}/pdf")
    assert response.status_code == 404
    page = await user.http_client.get(f"/payments/{theirs.public_id}")
    assert page.status_code == 404


async def test_the_receipt_pdf_carries_the_business_logo_once_there_is_one(user):
    paid = next(p for p in demo_payments() if p.status == PaymentStatus.SUCCEEDED and p.kind == "invoice")
    await post_login(user)
    before = await user.http_client.get(f"/payments/{paid.public_id}/pdf")
    assert len(PdfReader(BytesIO(before.content)).pages[0].images) == 0
    picture = BytesIO()
    Image.new("RGB", (300, 100), (200, 40, 40)).save(picture, format="PNG")
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(logo=picture.getvalue(), logo_mime="image/png"))
    after = await user.http_client.get(f"/payments/{paid.public_id}/pdf")
    assert len(PdfReader(BytesIO(after.content)).pages[0].images) == 1
