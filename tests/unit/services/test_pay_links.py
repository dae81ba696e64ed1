"""Pay links: the link pays its one invoice without an account, shows nothing else, stops when the
invoice is paid, voided, revoked or out of date, and throttles guessing and card testing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, Invoice, OutboxEmail, PayLink, Payment, StaffUser
from services.auth import token_hash
from services.errors import InvalidDetails, NotFound, OwnerOnly, PayLinkUnusable
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.invoice_emails import queue_invoice_sent_email
from services.invoices import void_invoice
from services.online_payments import pay, plan_pay_invoice
from services.outbox import links_for_delivery
from services.pay_links import (
    PAYMENTS_PER_LINK_PER_HOUR,
    UNKNOWN_PER_ADDRESS_PER_HOUR,
    complete_by_link,
    issue_pay_link,
    link_receipt,
    live_pay_links,
    open_pay_link,
    pay_by_link,
    pay_link_days,
    revoke_pay_links,
    set_pay_link_days,
)
from services.staff_auth import StaffPrincipal
from tests.factories import NOW, Clock, make_customer, make_organization, make_sent_invoice

IP = "203.0.113.9"
BASE_URL = "https://portal.acme.example"
PAY_LINK = re.compile(r"https://portal\.acme\.example/pay-link\?token=([A-Za-z0-9_-]+)")


def card(number="4242424242424242"):
    return ChargeRequest("", 0, "", "", card=CardDetails(number, 12, 2030, "123", "Pat Payer"))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 12000, due_in_days=10)
    other = make_sent_invoice(db, principal.client_id, 5000, due_in_days=5)  # older, owed too
    with db.transaction() as session:
        token, _ = issue_pay_link(session, session.get_one(Invoice, invoice.id), now=clock())
    return principal, invoice, other, token


def make_owner(db, organization_id) -> StaffPrincipal:
    with db.transaction() as session:
        user = StaffUser(
            organization_id=organization_id,
            name="Owen Owner",
            email="owen@acme.example",
            password_hash="-",
            role="owner",
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return StaffPrincipal(user.id, organization_id, user.name, user.email, "owner", 0)


def balance(db, ref) -> tuple[str, int]:
    with db.reading() as session:
        invoice = session.get_one(Invoice, ref.id)
        return invoice.status, invoice.balance_due_minor


def reason(call) -> str:
    with pytest.raises(PayLinkUnusable) as refused:
        call()
    return refused.value.reason


def test_the_link_pays_its_invoice_and_no_other(db, books, clock):
    principal, invoice, other, token = books
    opened = open_pay_link(db, token, ip_address=IP, clock=clock)
    assert opened.invoice_public_id == invoice.public_id
    outcome = pay_by_link(db, SandboxGateway(clock=clock), token, card(), ip_address=IP, clock=clock)
    assert outcome.status == "succeeded"
    assert outcome.amount.minor == 12000
    assert balance(db, invoice) == ("paid", 0)
    assert balance(db, other) == ("sent", 5000)  # oldest due, yet not the link's: untouched
    with db.reading() as session:
        payment = session.scalars(select(Payment)).one()
        assert (payment.client_id, payment.portal_user_id) == (principal.client_id, None)
        audited = session.execute(select(AuditEvent.action, AuditEvent.ip_address)).all()
    assert ("pay_link.payment", IP) in audited
    assert reason(lambda: open_pay_link(db, token, ip_address=IP, clock=clock)) == "paid"


def test_a_declined_card_leaves_the_link_working(db, books, clock):
    _, invoice, _, token = books
    outcome = pay_by_link(
        db, SandboxGateway(clock=clock), token, card("4000000000000002"), ip_address=IP, clock=clock
    )
    assert outcome.status == "failed"
    assert balance(db, invoice) == ("sent", 12000)
    assert open_pay_link(db, token, ip_address=IP, clock=clock).invoice_public_id == invoice.public_id


def test_only_the_hash_of_the_token_is_kept(db, books):
    *_, token = books
    with db.reading() as session:
        assert session.scalars(select(PayLink.token_hash)).all() == [token_hash(token)]


def test_a_voided_invoice_a_revoked_or_an_old_link_is_refused_with_its_reason(db, books, clock):
    principal, invoice, _, token = books
    clock.advance(days=60)
    assert reason(lambda: open_pay_link(db, token, ip_address=IP, clock=clock)) == "expired"
    clock.advance(days=-60)
    assert revoke_pay_links(db, principal.organization_id, invoice.public_id, clock=clock) == 1
    assert reason(lambda: open_pay_link(db, token, ip_address=IP, clock=clock)) == "revoked"
    with db.transaction() as session:
        fresh, _ = issue_pay_link(session, session.get_one(Invoice, invoice.id), now=clock())
    void_invoice(db, invoice.id, clock=clock)
    assert reason(lambda: open_pay_link(db, fresh, ip_address=IP, clock=clock)) == "voided"
    gateway = SandboxGateway(clock=clock)
    assert reason(lambda: pay_by_link(db, gateway, fresh, card(), ip_address=IP, clock=clock)) == "voided"
    with db.reading() as session:
        assert session.scalars(select(Payment)).all() == []


def test_guessing_tokens_from_one_address_is_throttled(db, books, clock):
    *_, token = books
    for n in range(UNKNOWN_PER_ADDRESS_PER_HOUR):
        assert reason(lambda n=n: open_pay_link(db, f"guess-{n}", ip_address=IP, clock=clock)) == "unknown"
    assert reason(lambda: open_pay_link(db, token, ip_address=IP, clock=clock)) == "throttled"
    assert open_pay_link(db, token, ip_address="198.51.100.1", clock=clock).invoice_public_id
    clock.advance(hours=1, seconds=1)
    assert open_pay_link(db, token, ip_address=IP, clock=clock).invoice_public_id


def test_card_testing_through_one_link_is_throttled(db, books, clock):
    *_, token = books
    gateway = SandboxGateway(clock=clock)
    for _ in range(PAYMENTS_PER_LINK_PER_HOUR):
        assert (
            pay_by_link(db, gateway, token, card("4000000000000002"), ip_address=IP, clock=clock).status
            == "failed"
        )
    assert reason(lambda: pay_by_link(db, gateway, token, card(), ip_address=IP, clock=clock)) == "throttled"


def test_the_invoice_email_carries_a_link_that_opens_that_invoice(db, books, clock):
    _, invoice, _, _ = books
    with db.transaction() as session:
        queue_invoice_sent_email(
            session, session.get_one(Invoice, invoice.id), base_url=BASE_URL, now=clock()
        )
        body = session.scalars(select(OutboxEmail.body_text)).one()
    assert "/pay-link?token=" not in body  # sealed in the outbox until the e-mail is sent
    found = PAY_LINK.search(links_for_delivery(body, clock()))
    assert found, body
    assert (
        open_pay_link(db, found.group(1), ip_address=IP, clock=clock).invoice_public_id == invoice.public_id
    )


def test_the_links_holder_gets_the_receipt_of_the_payment_made_through_it_and_no_other(db, books, clock):
    principal, invoice, other, token = books
    gateway = SandboxGateway(clock=clock)
    paid = pay_by_link(db, gateway, token, card(), ip_address=IP, clock=clock)
    receipt = link_receipt(db, token, paid.payment_public_id, ip_address=IP, clock=clock)
    assert (receipt.receipt_number, receipt.amount.minor) == (paid.receipt_number, 12000)
    assert [line.invoice_number for line in receipt.applied] == [invoice.number]
    # The customer's own payment in the portal, of the same client: not through this link.
    own = pay(db, gateway, principal, plan_pay_invoice(db, principal, other.public_id), card(), clock=clock)
    with pytest.raises(NotFound):
        link_receipt(db, token, own.payment_public_id, ip_address=IP, clock=clock)
    assert reason(lambda: link_receipt(db, "wrong", paid.payment_public_id, ip_address=IP, clock=clock)) == (
        "unknown"
    )
    revoke_pay_links(db, principal.organization_id, invoice.public_id, clock=clock)
    assert reason(lambda: link_receipt(db, token, paid.payment_public_id, ip_address=IP, clock=clock)) == (
        "revoked"
    )


def test_a_declined_payment_through_the_link_has_no_receipt(db, books, clock):
    *_, token = books
    declined = pay_by_link(
        db, SandboxGateway(clock=clock), token, card("4000000000000002"), ip_address=IP, clock=clock
    )
    with pytest.raises(NotFound):
        link_receipt(db, token, declined.payment_public_id, ip_address=IP, clock=clock)


def test_every_payment_through_the_link_is_audited_with_what_it_made(db, books, clock):
    *_, token = books
    gateway = SandboxGateway(clock=clock)
    declined = pay_by_link(db, gateway, token, card("4000000000000002"), ip_address=IP, clock=clock)
    paid = pay_by_link(db, gateway, token, card(), ip_address=IP, clock=clock)
    with db.reading() as session:
        audited = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "pay_link.paid").order_by(AuditEvent.id)
        ).all()
    assert [(d["payment"], d["status"]) for d in audited] == [
        (declined.payment_public_id, "failed"),
        (paid.payment_public_id, "succeeded"),
    ]


def test_only_a_payment_made_through_the_link_can_be_completed_through_it(db, books, clock):
    principal, _, other, token = books
    gateway = SandboxGateway(clock=clock)
    own = pay(db, gateway, principal, plan_pay_invoice(db, principal, other.public_id), card(), clock=clock)
    with pytest.raises(NotFound):
        complete_by_link(db, gateway, token, own.payment_public_id, ip_address=IP, clock=clock)


def test_the_business_sets_how_long_links_work_from_1_to_365_days(db, books, clock):
    principal, invoice, _, old_token = books
    owner = make_owner(db, principal.organization_id)
    assert pay_link_days(db, principal.organization_id) == 60
    for wrong in (0, 366, -5):
        with pytest.raises(InvalidDetails) as refused:
            set_pay_link_days(db, owner, wrong, clock=clock)
        assert refused.value.errors == {"pay_link_days": "Enter a whole number of days from 1 to 365."}
    assert pay_link_days(db, principal.organization_id) == 60
    with pytest.raises(OwnerOnly):
        set_pay_link_days(db, replace(owner, role="staff"), 7, clock=clock)
    assert set_pay_link_days(db, owner, 7, clock=clock) == 7
    with db.transaction() as session:
        token, expires_at = issue_pay_link(session, session.get_one(Invoice, invoice.id), now=clock())
    assert expires_at == clock() + timedelta(days=7)
    clock.advance(days=7)
    assert reason(lambda: open_pay_link(db, token, ip_address=IP, clock=clock)) == "expired"
    assert open_pay_link(db, old_token, ip_address=IP, clock=clock).invoice_public_id  # sent for 60 days
    with db.reading() as session:
        changed = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "business.pay_link_days_updated")
        ).all()
    assert changed == [{"old": 60, "new": 7}]


def test_the_invoice_counts_only_links_that_still_open_it(db, books, clock):
    principal, invoice, other, _ = books
    assert live_pay_links(db, principal.organization_id, invoice.public_id, clock=clock) == 1
    assert live_pay_links(db, principal.organization_id, other.public_id, clock=clock) == 0
    clock.advance(days=61)
    assert live_pay_links(db, principal.organization_id, invoice.public_id, clock=clock) == 0
    clock.advance(days=-61)
    revoke_pay_links(db, principal.organization_id, invoice.public_id, clock=clock)
    assert live_pay_links(db, principal.organization_id, invoice.public_id, clock=clock) == 0
    stranger = make_organization(db, "Elsewhere Ltd")
    assert live_pay_links(db, stranger, invoice.public_id, clock=clock) == 0
