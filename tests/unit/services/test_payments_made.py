"""Payments Made: every payment with its receipt, filtered, sorted and paged; one payment's details."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import RefundSource
from services.credits import refund_available
from services.errors import NotFound
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.payments import record_payment
from services.payments_made import PaymentFilter, PaymentsQuery, get_payment, list_payments
from tests.factories import NOW, Clock, make_customer, make_sent_invoice
from tests.unit.services.test_credits import paid_retainer


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def card(number: str = "4242424242424242") -> ChargeRequest:
    return ChargeRequest("", 0, "", "", card=CardDetails(number, 12, 2030, "123", "Ann"))


@pytest.fixture
def history(db):
    """Five payments on five days: cash over two invoices with excess, a retainer, a card, a decline,
    and a bank debit still processing."""
    clock = Clock()
    principal = make_customer(db)
    client = principal.client_id
    first = make_sent_invoice(db, client, 10000, due_in_days=5)
    second = make_sent_invoice(db, client, 20000, due_in_days=9)
    third = make_sent_invoice(db, client, 7000, due_in_days=12)
    cash = record_payment(
        db,
        client_id=client,
        amount=usd(35000),
        method="cash",
        received_at=NOW,
        allocations={first.id: 10000, second.id: 20000},
        clock=clock,
    )
    clock.advance(days=1)
    paid_retainer(db, client, 4000, days_later=1)
    clock.advance(days=1)
    gateway = SandboxGateway(clock=clock)
    plan = plan_pay_invoice(db, principal, third.public_id, usd(2500), clock=clock)
    by_card = pay(db, gateway, principal, plan, card(), clock=clock)
    clock.advance(days=1)
    plan = plan_pay_invoice(db, principal, third.public_id, usd(1000), clock=clock)
    declined = pay(db, gateway, principal, plan, card("4000000000000002"), clock=clock)
    clock.advance(days=1)
    account = BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True)
    plan = plan_pay_invoice(db, principal, third.public_id, usd(4500), clock=clock)
    debit = pay(db, gateway, principal, plan, ChargeRequest("", 0, "", "", bank_account=account), clock=clock)
    return {
        "principal": principal,
        "cash": cash,
        "card": by_card,
        "declined": declined,
        "debit": debit,
        "invoices": (first, second, third),
    }


def shown(page):
    return [(row.amount.minor, row.status_label, row.paid_for) for row in page.rows]


def test_every_payment_newest_first_with_its_status_and_invoices(db, history):
    page = list_payments(db, history["principal"], PaymentsQuery())
    first, second, third = (invoice.number for invoice in history["invoices"])
    assert page.total_count == 5
    assert shown(page) == [
        (4500, "Processing", (third,)),
        (1000, "Failed", (third,)),
        (2500, "Paid", (third,)),
        (4000, "Paid", ("RET-00001",)),
        (35000, "Paid", (first, second)),
    ]
    cash = page.rows[-1]
    assert (cash.method, cash.receipt_number) == ("Cash", "RCPT-00001")
    assert page.rows[2].method == "Visa ending 4242"
    assert page.rows[1].receipt_number is None  # a failed attempt has no receipt


@pytest.mark.parametrize(
    ("kind", "amounts"),
    [(PaymentFilter.INVOICE, [4500, 1000, 2500, 35000]), (PaymentFilter.RETAINER, [4000])],
)
def test_the_drop_down_shows_invoice_or_retainer_payments(db, history, kind, amounts):
    page = list_payments(db, history["principal"], PaymentsQuery(filter=kind))
    assert [row.amount.minor for row in page.rows] == amounts
    assert page.total_count == len(amounts)


@pytest.mark.parametrize(
    ("sort", "descending", "amounts"),
    [
        ("amount", True, [35000, 4500, 4000, 2500, 1000]),
        ("amount", False, [1000, 2500, 4000, 4500, 35000]),
        ("date", False, [35000, 4000, 2500, 1000, 4500]),
        ("nonsense", True, [4500, 1000, 2500, 4000, 35000]),  # unknown sort: newest first
    ],
)
def test_sorted_by_date_or_amount_both_ways(db, history, sort, descending, amounts):
    page = list_payments(db, history["principal"], PaymentsQuery(sort=sort, descending=descending))
    assert [row.amount.minor for row in page.rows] == amounts


def test_paged_on_the_server(db, history):
    second_page = list_payments(db, history["principal"], PaymentsQuery(sort="amount", page=2, page_size=10))
    assert (second_page.rows, second_page.total_count, second_page.page_count) == ((), 5, 1)
    query = PaymentsQuery(sort="amount", descending=False, page=1, page_size=10)
    assert len(list_payments(db, history["principal"], query).rows) == 5


def test_a_refunded_payment_says_so(db, history):
    principal = history["principal"]
    refund_available(
        db,
        client_id=principal.client_id,
        source=RefundSource.CREDIT,
        amount=usd(5000),
        refunded_at=NOW + timedelta(days=6),
    )
    detail = get_payment(db, principal, history["cash"].public_id)
    assert (detail.status_label, detail.refunded, detail.unapplied) == ("Paid", usd(5000), usd(0))


def test_a_payment_shows_what_it_paid_and_what_is_still_due(db, history):
    detail = get_payment(db, history["principal"], history["cash"].public_id)
    first, second, _ = history["invoices"]
    assert (detail.receipt_number, detail.amount, detail.method) == ("RCPT-00001", usd(35000), "Cash")
    assert [(line.invoice_number, line.amount, line.balance_left) for line in detail.applied] == [
        (first.number, usd(10000), usd(0)),
        (second.number, usd(20000), usd(0)),
    ]
    assert detail.unapplied == usd(5000)
    assert detail.business.name == "Acme Studio"
    card_detail = get_payment(db, history["principal"], history["card"].payment_public_id)
    assert [(line.amount, line.balance_left) for line in card_detail.applied] == [(usd(2500), usd(4500))]
    assert card_detail.is_sandbox


def test_a_retainer_payment_names_its_retainer_invoice(db, history):
    page = list_payments(db, history["principal"], PaymentsQuery(filter=PaymentFilter.RETAINER))
    detail = get_payment(db, history["principal"], page.rows[0].public_id)
    assert (detail.is_retainer, detail.retainer_invoice_number, detail.unapplied) == (
        True,
        "RET-00001",
        usd(4000),
    )
    assert detail.applied == ()


def test_another_clients_payment_is_not_found(db, history):
    stranger = make_customer(db, history["principal"].organization_id, name="Other Co", email="bob@o.example")
    with pytest.raises(NotFound):
        get_payment(db, stranger, history["cash"].public_id)
    assert list_payments(db, stranger, PaymentsQuery()).total_count == 0


def test_a_payment_paid_back_in_full_is_refunded(db, history):
    principal = history["principal"]
    on_account = record_payment(
        db,
        client_id=principal.client_id,
        amount=usd(3000),
        method="cheque",
        received_at=NOW + timedelta(days=7),
    )
    refund_available(
        db,
        client_id=principal.client_id,
        source=RefundSource.CREDIT,
        amount=usd(8000),
        refunded_at=NOW + timedelta(days=8),
    )
    assert get_payment(db, principal, on_account.public_id).status_label == "Refunded"
    newest = list_payments(db, principal, PaymentsQuery()).rows[0]
    assert (newest.amount, newest.status_label, newest.method) == (usd(3000), "Refunded", "Cheque")
