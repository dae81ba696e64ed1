"""Quotes: written and sent by the business, read, accepted (once) or declined by its customer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from models import (
    AuditEvent,
    Client,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Organization,
    OutboxEmail,
    Quote,
    StaffUser,
)
from services.clients import ClientChange, change_client, currency_is_fixed
from services.comments import add_quote_comment, business_quote_thread, list_quote_comments, reply_on_quote
from services.conversations import InboxKind, inbox, mark_read, unread_count
from services.database import Database
from services.errors import (
    CurrencyFixed,
    InvalidDetails,
    InvalidStatusChange,
    NotFound,
    QuoteExpired,
    human_message,
)
from services.events import Events, client_documents_topic, quote_comments_topic, quote_topic
from services.i18n import using_language
from services.money import Money, round_half_up
from services.pdf.quote import render_quote_pdf
from services.principal import Principal
from services.quote_answers import accept_quote, client_quote, client_quotes, decline_quote
from services.quote_documents import deposit_amount
from services.quotes import create_quote, editable_quote, list_quotes, quote_sheet, send_quote, update_quote
from services.totals import LineInput, document_totals
from tests.factories import NOW, TODAY, Clock, make_customer

BASE = "https://portal.example"
LINES = [
    LineInput("Design", Decimal("3"), 12_50, Decimal("10"), Decimal("19"), "VAT"),
    LineInput("Hosting", Decimal("1.5"), 9_99, Decimal(0), Decimal("7"), "VAT reduced"),
]


@pytest.fixture
def customer(db: Database) -> Principal:
    return make_customer(db)


def client_public_id(db: Database, principal: Principal) -> str:
    with db.reading() as session:
        return session.get_one(Client, principal.client_id).public_id


def write_quote(
    db: Database,
    customer: Principal,
    *,
    lines: list[LineInput] = LINES,
    valid_days: int = 14,
    deposit: Decimal = Decimal(0),
) -> str:
    return create_quote(
        db,
        customer.organization_id,
        client_public_id=client_public_id(db, customer),
        issue_date=TODAY,
        valid_until=TODAY + timedelta(days=valid_days),
        deposit_percent=deposit,
        lines=lines,
        notes="Thanks for asking.",
        terms="Half up front.",
        clock=lambda: NOW,
    )


def sent_quote(db: Database, customer: Principal, **kwargs: object) -> str:
    public_id = write_quote(db, customer, **kwargs)  # type: ignore[arg-type]
    send_quote(db, customer.organization_id, public_id, base_url=BASE, clock=lambda: NOW)
    return public_id


def accept(db: Database, customer: Principal, public_id: str, *, at: datetime = NOW, name: str = "Ann Smith"):
    return accept_quote(
        db, customer, public_id, signature=name, ip_address="203.0.113.7", base_url=BASE, clock=lambda: at
    )


def set_time_zone(db: Database, customer: Principal, zone: str) -> None:
    with db.transaction() as session:
        session.get_one(Organization, customer.organization_id).time_zone = zone


# --- writing and sending ------------------------------------------------------------------------


def test_a_quote_carries_the_totals_of_its_lines_and_is_numbered_in_its_own_series(db, customer):
    first = write_quote(db, customer)
    second = write_quote(db, customer)
    totals = document_totals(LINES, "USD")
    sheet = quote_sheet(db, customer.organization_id, first, now=NOW)
    assert (sheet.subtotal, sheet.discount, sheet.tax, sheet.total) == (
        totals.subtotal,
        totals.discount,
        totals.tax,
        totals.total,
    )
    assert [line.amount.minor for line in sheet.lines] == [3750, 1499]
    assert (sheet.number, quote_sheet(db, customer.organization_id, second, now=NOW).number) == (
        "QT-00001",
        "QT-00002",
    )
    assert sheet.status_label == "Draft"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_until": TODAY - timedelta(days=1)}, "valid_until"),
        ({"deposit_percent": Decimal("100.5")}, "deposit"),
        ({"deposit_percent": Decimal("-1")}, "deposit"),
        ({"client_public_id": ""}, "client"),
        ({"lines": [LineInput("", Decimal(1), 100)]}, "line 1"),
    ],
)
def test_a_wrong_quote_is_refused_by_field_and_nothing_is_written(db, customer, change, field):
    fields = {
        "client_public_id": client_public_id(db, customer),
        "issue_date": TODAY,
        "valid_until": TODAY + timedelta(days=7),
        "deposit_percent": Decimal(0),
        "lines": LINES,
        **change,
    }
    with pytest.raises(InvalidDetails) as refused:
        create_quote(db, customer.organization_id, clock=lambda: NOW, **fields)
    assert field in refused.value.errors
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Quote)) == 0


def test_sending_emails_the_client_a_link_and_shows_the_quote_to_the_customer(db, customer):
    public_id = write_quote(db, customer)
    assert client_quotes(db, customer, now=NOW) == ()  # a draft is the business's own
    with pytest.raises(NotFound):
        client_quote(db, customer, public_id, now=NOW)
    send_quote(db, customer.organization_id, public_id, base_url=BASE, clock=lambda: NOW)
    with db.reading() as session:
        mail = session.scalars(select(OutboxEmail)).one()
        assert f"{BASE}/quotes/{public_id}" in mail.body_text
        assert "QT-00001" in mail.subject
        assert "$" in mail.subject
        assert "ann@client.example" in mail.to_addresses
    rows = client_quotes(db, customer, now=NOW)
    assert [(row.number, row.status_label) for row in rows] == [("QT-00001", "Sent")]
    with pytest.raises(InvalidStatusChange):  # sent: no longer edited
        editable_quote(db, customer.organization_id, public_id, now=NOW)


def test_a_sent_quote_cannot_be_edited_or_sent_again(db, customer):
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidStatusChange):
        update_quote(
            db,
            customer.organization_id,
            public_id,
            client_public_id=client_public_id(db, customer),
            issue_date=TODAY,
            valid_until=TODAY,
            deposit_percent=Decimal(0),
            lines=LINES,
        )
    with pytest.raises(InvalidStatusChange):
        send_quote(db, customer.organization_id, public_id, base_url=BASE, clock=lambda: NOW)


def test_a_quote_without_lines_is_not_sent(db, customer):
    public_id = write_quote(db, customer, lines=[])
    with pytest.raises(InvalidDetails) as refused:
        send_quote(db, customer.organization_id, public_id, base_url=BASE, clock=lambda: NOW)
    assert "lines" in refused.value.errors
    assert quote_sheet(db, customer.organization_id, public_id, now=NOW).status == "draft"


def test_another_clients_quote_is_not_found(db, customer):
    other = make_customer(db, customer.organization_id, name="Other Co", email="olga@other.example")
    public_id = sent_quote(db, customer)
    with pytest.raises(NotFound):
        client_quote(db, other, public_id, now=NOW)
    with pytest.raises(NotFound):
        accept(db, other, public_id)
    assert client_quotes(db, other, now=NOW) == ()
    with pytest.raises(NotFound):  # and another business's staff do not find it either
        quote_sheet(db, customer.organization_id + 1000, public_id, now=NOW)


# --- accepting ----------------------------------------------------------------------------------


def test_accepting_makes_an_issued_invoice_with_the_quotes_lines_and_keeps_the_signature(db, customer):
    public_id = sent_quote(db, customer)
    events = Events()
    at = NOW + timedelta(hours=2)
    accepted = accept_quote(db, customer, public_id, signature="  Ann   Smith ", ip_address="203.0.113.7",
                            base_url=BASE, events=events, clock=lambda: at)  # fmt: skip
    assert not accepted.is_retainer
    with db.reading() as session:
        invoice = session.scalars(select(Invoice)).one()
        lines = session.scalars(select(InvoiceLine).order_by(InvoiceLine.position)).all()
        assert invoice.public_id == accepted.invoice_public_id
        assert (invoice.kind, invoice.status, invoice.number) == (
            InvoiceKind.INVOICE,
            InvoiceStatus.SENT,
            "INV-00001",
        )
        assert invoice.total_minor == document_totals(LINES, "USD").total.minor == invoice.balance_due_minor
        assert [(line.description, line.amount_minor, line.tax_minor) for line in lines] == [
            ("Design", 3750, 641),
            ("Hosting", 1499, 105),
        ]
        assert (invoice.notes, invoice.terms) == ("Thanks for asking.", "Half up front.")
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "quote.accepted")).one()
        assert (event.ip_address, event.details["signature"]) == ("203.0.113.7", "Ann Smith")
        to_customer = session.scalars(
            select(OutboxEmail.subject).where(OutboxEmail.to_addresses.contains("ann@client.example"))
        ).all()
        assert any(
            "INV-00001" in subject for subject in to_customer
        )  # e-mailed as the business's invoices are
    document = client_quote(db, customer, public_id, now=at)
    assert (document.status_label, document.invoice_number) == ("Accepted", "INV-00001")
    assert document.answer is not None
    assert (document.answer.signature, document.answer.at, document.answer.ip_address) == (
        "Ann Smith",
        at,
        "203.0.113.7",
    )
    assert events.version(quote_topic(public_id)) == 1
    assert events.version(client_documents_topic(client_public_id(db, customer))) == 1


def test_accepting_needs_a_typed_name_and_changes_nothing_without_one(db, customer):
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidDetails) as refused:
        accept(db, customer, public_id, name="   ")
    assert "signature" in refused.value.errors
    assert client_quote(db, customer, public_id, now=NOW).status == "sent"


def test_a_deposit_makes_a_retainer_invoice_for_that_share_rounded_to_the_cent(db, customer):
    # total 100.01; 33.33 % of it is 33.333333 -> 33.33
    public_id = sent_quote(
        db, customer, lines=[LineInput("Build", Decimal(1), 100_01)], deposit=Decimal("33.33")
    )
    assert client_quote(db, customer, public_id, now=NOW).deposit == Money(33_33, "USD")
    accepted = accept(db, customer, public_id)
    assert accepted.is_retainer
    with db.reading() as session:
        invoice = session.scalars(select(Invoice)).one()
        line = session.scalars(select(InvoiceLine)).one()
        assert (invoice.kind, invoice.number, invoice.total_minor) == (
            InvoiceKind.RETAINER,
            "RET-00001",
            33_33,
        )
        assert line.description == "Deposit of 33.33 % for quote QT-00001"


def test_a_half_cent_deposit_rounds_up():
    assert deposit_amount(Money(1_01, "USD"), Decimal(50)) == Money(51, "USD")  # 50.5 cents
    assert deposit_amount(Money(1_01, "JPY"), Decimal(50)) == Money(51, "JPY")
    assert deposit_amount(Money(12_345, "KWD"), Decimal("12.5")) == Money(1_543, "KWD")  # 1543.125


@given(
    total=st.integers(min_value=0, max_value=10**13),
    percent=st.decimals(min_value=0, max_value=100, places=4, allow_nan=False, allow_infinity=False),
)
def test_a_deposit_is_the_rounded_share_and_never_more_than_the_total(total, percent):
    deposit = deposit_amount(Money(total, "EUR"), percent)
    assert 0 <= deposit.minor <= total
    assert deposit.minor == round_half_up(Decimal(total) * percent / 100)
    assert abs(Decimal(deposit.minor) - Decimal(total) * percent / 100) <= Decimal("0.5")


def test_two_tabs_accepting_at_once_make_one_invoice(db, customer):
    public_id = sent_quote(db, customer)
    start = threading.Barrier(4)
    made: list[str] = []
    refused: list[InvalidStatusChange] = []

    def accept_now() -> None:
        start.wait()
        try:
            made.append(accept(db, customer, public_id).invoice_number)
        except InvalidStatusChange as error:
            refused.append(error)

    tabs = [threading.Thread(target=accept_now) for _ in range(4)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join()
    assert made == ["INV-00001"]
    assert len(refused) == 3
    assert human_message(refused[0]) == "The quote QT-00001 is accepted and cannot be accepted."
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1
        assert session.scalar(select(Quote.invoice_id)) is not None


# --- expiry -------------------------------------------------------------------------------------


def test_a_quote_can_be_accepted_on_its_last_day_in_the_business_time_zone_not_after(db, customer):
    set_time_zone(db, customer, "Europe/Berlin")
    public_id = sent_quote(db, customer, valid_days=0)  # valid until TODAY (June 15)
    late_evening = datetime(TODAY.year, TODAY.month, TODAY.day, 21, 59, tzinfo=UTC)  # 23:59 in Berlin
    assert client_quote(db, customer, public_id, now=late_evening).status_label == "Sent"
    next_day = late_evening + timedelta(minutes=2)  # 00:01 in Berlin, still June 15 in UTC
    document = client_quote(db, customer, public_id, now=next_day)
    assert (document.status_label, document.expired, document.can_answer) == ("Expired", True, False)
    with pytest.raises(QuoteExpired) as refused:
        accept(db, customer, public_id, at=next_day)
    assert "can no longer be accepted" in human_message(refused.value)
    with pytest.raises(QuoteExpired):
        decline_quote(db, customer, public_id, reason="Too late", ip_address="", clock=lambda: next_day)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert accept(db, customer, public_id, at=late_evening).invoice_number == "INV-00001"


def test_the_business_list_shows_an_expired_quote_as_expired(db, customer):
    sent_quote(db, customer, valid_days=1)
    page = list_quotes(db, customer.organization_id, now=NOW + timedelta(days=2))
    assert [(row.number, row.status_label) for row in page.rows] == [("QT-00001", "Expired")]
    assert list_quotes(db, customer.organization_id, search="nobody", now=NOW).rows == ()
    assert list_quotes(db, customer.organization_id, search="client", now=NOW).total_count == 1


# --- declining ----------------------------------------------------------------------------------


def test_declining_needs_a_reason_and_then_the_quote_cannot_be_accepted(db, customer):
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidDetails) as refused:
        decline_quote(db, customer, public_id, reason="  ", ip_address="198.51.100.1", clock=lambda: NOW)
    assert "reason" in refused.value.errors
    decline_quote(db, customer, public_id, reason="Too expensive for us.", ip_address="198.51.100.1",
                  clock=lambda: NOW)  # fmt: skip
    document = quote_sheet(db, customer.organization_id, public_id, now=NOW)
    assert document.status_label == "Declined"
    assert document.answer is not None
    assert (document.answer.reason, document.answer.ip_address, document.answer.accepted) == (
        "Too expensive for us.",
        "198.51.100.1",
        False,
    )
    with pytest.raises(InvalidStatusChange):
        accept(db, customer, public_id)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_clock_that_moves_keeps_the_answer_time(db, customer):
    clock = Clock(NOW)
    public_id = sent_quote(db, customer)
    clock.advance(days=3)
    decline_quote(db, customer, public_id, reason="No", ip_address="", clock=clock)
    answer = client_quote(db, customer, public_id, now=clock()).answer
    assert answer is not None
    assert answer.at == NOW + timedelta(days=3)


# --- the PDF and the comments -------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(BytesIO(content)).pages
    )


def test_the_pdf_says_quote_valid_until_and_carries_the_signature(db, customer):
    public_id = sent_quote(db, customer, deposit=Decimal(30))
    waiting = pdf_text(render_quote_pdf(client_quote(db, customer, public_id, now=NOW, with_logo=True)))
    assert "Quote" in waiting
    assert "# QT-00001" in waiting
    assert "Valid Until: Jun 29, 2026" in waiting
    assert "Balance Due" not in waiting
    assert "Total $56.20 Deposit on acceptance (30 %) $16.86" in waiting  # 30 % of $56.20
    assert "Accept or decline it in the portal" in waiting
    accept(db, customer, public_id)
    signed = pdf_text(render_quote_pdf(client_quote(db, customer, public_id, now=NOW)))
    assert "Signed: Ann Smith" in signed
    assert "from the address 203.0.113.7" in signed
    assert "Invoice RET-00001 was issued for it." in signed
    with using_language("de"):
        german = pdf_text(render_quote_pdf(client_quote(db, customer, public_id, now=NOW)))
    assert "Angebot" in german
    assert "Gültig bis" in german


def test_a_quote_has_a_comment_thread_of_its_own_scoped_to_its_client(db, customer):
    public_id = sent_quote(db, customer)
    other = make_customer(db, customer.organization_id, name="Other Co", email="olga@other.example")
    with db.transaction() as session:
        staff = StaffUser(organization_id=customer.organization_id, name="Olivia", email="olivia@biz.example",
                          password_hash="x", created_at=NOW)  # fmt: skip
        session.add(staff)
        session.flush()
        staff_id = staff.id
    events = Events()
    add_quote_comment(db, customer, public_id, "Can you start in July?", clock=lambda: NOW, events=events)
    reply_on_quote(db, staff_user_id=staff_id, quote_public_id=public_id, body="Yes.",
                   clock=lambda: NOW + timedelta(minutes=1), events=events)  # fmt: skip
    thread = list_quote_comments(db, customer, public_id)
    assert [(c.author, c.from_business, c.body, c.mine) for c in thread] == [
        ("Ann", False, "Can you start in July?", True),
        ("Olivia (Acme Studio)", True, "Yes.", False),
    ]
    assert [
        c.mine for c in business_quote_thread(db, customer.organization_id, public_id, staff_user_id=staff_id)
    ] == [
        False,
        True,
    ]
    assert events.version(quote_comments_topic(public_id)) == 2
    with pytest.raises(NotFound):
        list_quote_comments(db, other, public_id)
    with pytest.raises(NotFound):
        add_quote_comment(db, other, public_id, "Mine?", clock=lambda: NOW)
    draft = write_quote(db, customer)
    with pytest.raises(NotFound):  # a draft is not the customer's to comment on
        add_quote_comment(db, customer, draft, "Hello?", clock=lambda: NOW)


def test_the_business_is_told_of_an_acceptance_and_of_a_decline_with_its_reason(db, customer):
    accepted, declined = sent_quote(db, customer), sent_quote(db, customer)
    accept(db, customer, accepted)
    decline_quote(db, customer, declined, reason="Too late for our season.", ip_address="", base_url=BASE,
                  clock=lambda: NOW)  # fmt: skip
    with db.reading() as session:
        notices = session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.to_addresses == "hello@acme.example")
            .order_by(OutboxEmail.id)
        ).all()
    assert [notice.subject for notice in notices] == [
        "Quote QT-00001 accepted by Client Ltd",
        "Quote QT-00002 declined by Client Ltd",
    ]
    assert "signing as “Ann Smith”" in notices[0].body_text
    assert "Invoice INV-00001 was issued for it" in notices[0].body_text
    assert "Reason: Too late for our season." in notices[1].body_text
    assert f"{BASE}/admin/quotes/{declined}" in notices[1].body_text
    assert notices[1].reply_to == "ann@client.example"


def test_a_quote_thread_is_in_the_business_inbox_unread_until_read(db, customer):
    public_id = sent_quote(db, customer)
    add_quote_comment(db, customer, public_id, "Can you start in July?", clock=lambda: NOW)
    box = inbox(db, customer.organization_id)
    threads = [item for item in box.items if item.kind is InboxKind.COMMENT]
    assert [(item.public_id, item.quote_number, item.invoice_id, item.unread) for item in threads] == [
        (public_id, "QT-00001", None, 1)
    ]
    assert box.unread == unread_count(db, customer.organization_id) == 1
    assert mark_read(db, customer.organization_id, InboxKind.COMMENT, public_id, clock=lambda: NOW)
    assert unread_count(db, customer.organization_id) == 0
    add_quote_comment(db, customer, public_id, "And in August?", clock=lambda: NOW)
    with db.transaction() as session:
        staff = StaffUser(organization_id=customer.organization_id, name="Olivia", email="olivia@biz.example",
                          password_hash="x", created_at=NOW)  # fmt: skip
        session.add(staff)
        session.flush()
        staff_id = staff.id
    reply_on_quote(
        db, staff_user_id=staff_id, quote_public_id=public_id, body="July works.", clock=lambda: NOW
    )
    assert unread_count(db, customer.organization_id) == 0  # answering reads the thread
    other_business = make_customer(db, name="Elsewhere", email="eve@elsewhere.example")
    assert inbox(db, other_business.organization_id).items == ()


def test_the_business_list_filters_by_status_with_expired_as_its_own(db, customer):
    waiting = sent_quote(db, customer, valid_days=10)
    lapsed = sent_quote(db, customer, valid_days=1)
    draft = write_quote(db, customer)
    accepted = sent_quote(db, customer)
    accept(db, customer, accepted)
    later = NOW + timedelta(days=3)

    def shown(status: str) -> set[str]:
        return {
            row.public_id for row in list_quotes(db, customer.organization_id, status=status, now=later).rows
        }

    assert shown("sent") == {waiting}
    assert shown("expired") == {lapsed}
    assert shown("draft") == {draft}
    assert shown("accepted") == {accepted}
    assert shown("declined") == set()
    assert shown("") == shown("nonsense") == {waiting, lapsed, draft, accepted}
    assert list_quotes(db, customer.organization_id, search="100%_", now=later).rows == ()  # no wildcards


def test_a_clients_currency_is_fixed_once_it_has_a_quote(db, customer):
    """A quote's amounts are in the client's currency, and accepting it bills them in it."""
    write_quote(db, customer)
    with pytest.raises(CurrencyFixed):
        change_client(
            db, customer.organization_id, client_public_id(db, customer), ClientChange(currency="EUR")
        )
    assert currency_is_fixed(db, customer.organization_id, client_public_id(db, customer))
