"""Quotes attacked: answers for someone else's quote, at the edge of the last day, twice or crosswise, with
signatures and reasons no person types, deposits at and past their bounds, edits after sending, and many
tabs at once. Each bad answer is refused with a reason and changes nothing; the invoice a quote becomes
carries exactly the quote's lines and total. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import func, select

from models import Invoice, InvoiceKind, InvoiceLine, OutboxEmail, Quote
from services.database import Database
from services.errors import InvalidDetails, InvalidStatusChange, NotFound, QuoteExpired
from services.money import Money
from services.pdf.quote import render_quote_pdf
from services.principal import Principal
from services.quote_answers import accept_quote, client_quote, decline_quote
from services.quotes import quote_sheet, send_quote, update_quote
from services.totals import LineInput, document_totals
from tests.factories import NOW, TODAY, make_customer
from tests.unit.services.test_quotes import (
    BASE,
    LINES,
    client_public_id,
    sent_quote,
    set_time_zone,
    write_quote,
)

SIGNED_AT = NOW + timedelta(hours=1)


@pytest.fixture
def customer(db: Database) -> Principal:
    return make_customer(db)


def accept(
    db: Database, who: Principal, public_id: str, *, at: datetime = SIGNED_AT, name: str = "Ann Smith"
):
    return accept_quote(
        db, who, public_id, signature=name, ip_address="203.0.113.7", base_url=BASE, clock=lambda: at
    )


def decline(db: Database, who: Principal, public_id: str, *, at: datetime = SIGNED_AT, reason: str = "No"):
    decline_quote(db, who, public_id, reason=reason, ip_address="203.0.113.7", clock=lambda: at)


def state(db: Database, public_id: str) -> tuple[str, str, str, int]:
    """The quote's status, signature and reason, and how many invoices the books hold."""
    with db.reading() as session:
        quote = session.scalars(select(Quote).where(Quote.public_id == public_id)).one()
        invoices = session.scalar(select(func.count()).select_from(Invoice)) or 0
        return quote.status, quote.signature_name, quote.decline_reason, invoices


def midnight(day: date, zone_offset_hours: int) -> datetime:
    """00:00 of ``day`` in a zone ``zone_offset_hours`` ahead of UTC, as a UTC moment."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=zone_offset_hours)


# --- whose quote -----------------------------------------------------------------------------------------


def test_another_business_customer_neither_reads_nor_answers_the_quote(db, customer):
    public_id = sent_quote(db, customer)
    stranger = make_customer(db, name="Stranger Co", email="sam@stranger.example")  # another business

    for attempt in (
        lambda: client_quote(db, stranger, public_id, now=NOW),
        lambda: accept(db, stranger, public_id),
        lambda: decline(db, stranger, public_id),
    ):
        with pytest.raises(NotFound):
            attempt()
    with pytest.raises(NotFound):  # nor its staff
        quote_sheet(db, stranger.organization_id, public_id, now=NOW)
    assert state(db, public_id) == ("sent", "", "", 0)


def test_a_business_cannot_move_its_draft_to_another_business_client(db, customer):
    public_id = write_quote(db, customer)
    stranger = make_customer(db, name="Stranger Co", email="sam@stranger.example")
    with pytest.raises(InvalidDetails) as refused:
        update_quote(
            db,
            customer.organization_id,
            public_id,
            client_public_id=client_public_id(db, stranger),
            issue_date=TODAY,
            valid_until=TODAY + timedelta(days=3),
            deposit_percent=Decimal(0),
            lines=LINES,
            clock=lambda: NOW,
        )
    assert set(refused.value.errors) == {"client"}
    with db.reading() as session:
        assert session.scalars(select(Quote.client_id)).one() == customer.client_id


def test_a_draft_is_not_answered_even_by_its_own_customer(db, customer):
    public_id = write_quote(db, customer)
    with pytest.raises(NotFound):
        accept(db, customer, public_id)
    with pytest.raises(NotFound):
        decline(db, customer, public_id)
    assert state(db, public_id) == ("draft", "", "", 0)


# --- the last day, where the business is --------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "offset"),
    [("America/Los_Angeles", -7), ("Pacific/Kiritimati", 14), ("Asia/Kathmandu", 5.75), ("UTC", 0)],
)
def test_the_last_day_ends_at_midnight_in_the_business_time_zone(db, customer, zone, offset):
    set_time_zone(db, customer, zone)
    public_id = sent_quote(db, customer, valid_days=3)  # valid until 18 June, local time
    last_day_end = datetime(2026, 6, 19, tzinfo=UTC) - timedelta(hours=offset)  # 00:00 on 19 June there

    with pytest.raises(QuoteExpired):
        accept(db, customer, public_id, at=last_day_end)
    assert client_quote(db, customer, public_id, now=last_day_end).expired
    assert state(db, public_id) == ("sent", "", "", 0)
    just_before = last_day_end - timedelta(microseconds=1)
    assert not client_quote(db, customer, public_id, now=just_before).expired
    assert accept(db, customer, public_id, at=just_before).invoice_number == "INV-00001"


def test_a_quote_is_not_sent_once_its_last_day_has_passed_where_the_business_is(db, customer):
    set_time_zone(db, customer, "Pacific/Kiritimati")  # already 16 June there at NOW (15 June, 12:00 UTC)
    public_id = write_quote(db, customer, valid_days=0)
    with pytest.raises(InvalidDetails) as refused:
        send_quote(db, customer.organization_id, public_id, base_url=BASE, clock=lambda: NOW)
    assert set(refused.value.errors) == {"valid_until"}
    assert state(db, public_id) == ("draft", "", "", 0)


# --- answered once --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "second",
    [
        lambda db, who, public_id: accept(db, who, public_id, name="Bob Jones"),
        lambda db, who, public_id: decline(db, who, public_id, reason="Changed my mind"),
    ],
    ids=["accept", "decline"],
)
def test_an_accepted_quote_is_answered_for_good(db, customer, second):
    public_id = sent_quote(db, customer)
    accept(db, customer, public_id)
    with pytest.raises(InvalidStatusChange):
        second(db, customer, public_id)
    assert state(db, public_id) == ("accepted", "Ann Smith", "", 1)


@pytest.mark.parametrize(
    "second",
    [
        lambda db, who, public_id: accept(db, who, public_id),
        lambda db, who, public_id: decline(db, who, public_id, reason="Again"),
    ],
    ids=["accept", "decline"],
)
def test_a_declined_quote_is_answered_for_good(db, customer, second):
    public_id = sent_quote(db, customer)
    decline(db, customer, public_id, reason="Too dear")
    with pytest.raises(InvalidStatusChange):
        second(db, customer, public_id)
    assert state(db, public_id) == ("declined", "", "Too dear", 0)


@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_answered_quote_is_not_edited(db, customer, answer):
    public_id = sent_quote(db, customer)
    if answer == "accept":
        accept(db, customer, public_id)
    else:
        decline(db, customer, public_id)
    with pytest.raises(InvalidStatusChange):
        update_quote(
            db,
            customer.organization_id,
            public_id,
            client_public_id=client_public_id(db, customer),
            issue_date=TODAY,
            valid_until=TODAY + timedelta(days=30),
            deposit_percent=Decimal(0),
            lines=[LineInput("Cheaper", Decimal(1), 1)],
            clock=lambda: NOW,
        )
    assert (
        quote_sheet(db, customer.organization_id, public_id, now=NOW).total
        == document_totals(LINES, "USD").total
    )


def test_many_tabs_accepting_and_declining_at_once_give_one_answer_and_at_most_one_invoice(db, customer):
    public_id = sent_quote(db, customer)
    start = threading.Barrier(6)
    accepted: list[str] = []
    declined: list[bool] = []
    refused: list[BaseException] = []
    unexpected: list[BaseException] = []

    def answer(index: int) -> None:
        start.wait()
        try:
            if index % 3 == 2:
                decline(db, customer, public_id, reason=f"No {index}")
                declined.append(True)
            else:
                accepted.append(accept(db, customer, public_id, name=f"Signer {index}").invoice_number)
        except InvalidStatusChange as error:
            refused.append(error)
        except BaseException as error:  # a deadlock or a unique violation would land here
            unexpected.append(error)

    tabs = [threading.Thread(target=answer, args=(index,)) for index in range(6)]
    for tab in tabs:
        tab.start()
    for tab in tabs:
        tab.join(timeout=60)

    assert unexpected == []
    assert len(accepted) + len(declined) == 1
    assert len(refused) == 5
    status, _signature, _reason, invoices = state(db, public_id)
    assert (status, invoices) == (("accepted", 1) if accepted else ("declined", 0))
    with db.reading() as session:
        mails = session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.subject.contains("INV-"))
        )
    assert mails == len(accepted)


# --- what the customer types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    ["", "   \t\n ", "A" * 10_000, "A" * 201],
    ids=["empty", "whitespace", "ten-thousand", "201"],
)
def test_a_missing_or_overlong_signature_is_refused_and_changes_nothing(db, customer, signature):
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidDetails) as refused:
        accept(db, customer, public_id, name=signature)
    assert set(refused.value.errors) == {"signature"}
    assert state(db, public_id) == ("sent", "", "", 0)


def test_a_signature_of_exactly_the_longest_length_and_any_script_is_kept(db, customer):
    public_id = sent_quote(db, customer)
    name = ("Zoë Ðặng 山田 Ωμέγα Łukasz " * 10)[:200]
    accept(db, customer, public_id, name=name)
    assert state(db, public_id)[1] == " ".join(name.split())
    rendered = render_quote_pdf(client_quote(db, customer, public_id, now=SIGNED_AT))
    assert "Signed:" in " ".join(page.extract_text() or "" for page in PdfReader(BytesIO(rendered)).pages)


@pytest.mark.parametrize(
    "signature",
    [
        "Ann\x00Smith",
        "Ann \x07Smith",
        "\x1b[31mAnn Smith",
        "\u202ehtimS nnA",  # shown as "Ann Smith" reversed: a right-to-left override
        "\u200b\u200b",  # nothing visible at all
        "Ann\u200eSmith",  # a left-to-right mark
    ],
    ids=["nul", "bell", "escape", "rtl-override", "zero-width", "ltr-mark"],
)
def test_a_signature_with_invisible_or_control_characters_is_refused(db, customer, signature):
    """A typed name is the acceptance's proof: what is stored must be what anyone reading it sees."""
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidDetails) as refused:
        accept(db, customer, public_id, name=signature)
    assert set(refused.value.errors) == {"signature"}
    assert state(db, public_id) == ("sent", "", "", 0)


@pytest.mark.parametrize(
    "reason", ["", " \n\t ", "x" * 2001, "\x07\x00\x1b"], ids=["empty", "whitespace", "overlong", "controls"]
)
def test_a_missing_or_empty_looking_decline_reason_is_refused(db, customer, reason):
    public_id = sent_quote(db, customer)
    with pytest.raises(InvalidDetails) as refused:
        decline(db, customer, public_id, reason=reason)
    assert set(refused.value.errors) == {"reason"}
    assert state(db, public_id) == ("sent", "", "", 0)


def test_a_decline_reason_keeps_its_lines_and_loses_its_control_characters(db, customer):
    public_id = sent_quote(db, customer)
    decline(db, customer, public_id, reason="Too dear.\n\tMaybe\x07 next\x00 year\x1b[0m.")
    assert state(db, public_id)[2] == "Too dear.\n\tMaybe next year[0m."


# --- deposits -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "percent",
    ["-0.0001", "100.0001", "-100", "1E+3", "NaN", "sNaN", "Infinity", "33.33333"],
)
def test_a_deposit_outside_0_to_100_or_finer_than_4_decimals_is_refused(db, customer, percent):
    with pytest.raises(InvalidDetails) as refused:
        write_quote(db, customer, deposit=Decimal(percent))
    assert set(refused.value.errors) == {"deposit"}
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Quote)) == 0


@pytest.mark.parametrize(
    ("percent", "total", "deposit"),
    [
        ("100", 100_01, 100_01),
        ("33.333", 100_00, 33_33),  # 33.333 cents... 3333.3 -> 33.33
        ("33.3333", 1_00, 33),
        ("66.6667", 1_00, 67),
        ("50", 1, 1),  # half a cent rounds up: never a deposit of nothing on a one-cent quote
        ("0.0001", 10**12, 10**6),
    ],
)
def test_a_deposit_is_the_rounded_share_never_more_than_the_total(db, customer, percent, total, deposit):
    public_id = sent_quote(
        db, customer, lines=[LineInput("Work", Decimal(1), total)], deposit=Decimal(percent)
    )
    assert accept(db, customer, public_id).is_retainer
    with db.reading() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert (invoice.kind, invoice.total_minor, invoice.balance_due_minor) == (
            InvoiceKind.RETAINER,
            deposit,
            deposit,
        )
    assert deposit <= total


def test_a_deposit_that_rounds_to_nothing_makes_the_quotes_own_invoice(db, customer):
    """0.0001 % of $1.00 is a hundredth of a cent: accepting must not issue a retainer invoice of $0.00 (the
    customer would owe nothing now and the work nothing later), but the invoice of the quote's lines."""
    public_id = sent_quote(
        db, customer, lines=[LineInput("Work", Decimal(1), 1_00)], deposit=Decimal("0.0001")
    )
    assert not accept(db, customer, public_id).is_retainer
    with db.reading() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert (invoice.kind, invoice.total_minor, invoice.balance_due_minor) == (
            InvoiceKind.INVOICE,
            1_00,
            1_00,
        )


def test_a_free_quote_can_be_accepted(db, customer):
    """A quote of $0.00 (a goodwill job) is answered like any other; its invoice owes nothing."""
    public_id = sent_quote(db, customer, lines=[LineInput("Goodwill visit", Decimal(1), 0)])
    accepted = accept(db, customer, public_id)
    with db.reading() as session:
        invoice = session.scalars(select(Invoice)).one()
        assert (invoice.number, invoice.total_minor, invoice.balance_due_minor) == (
            accepted.invoice_number,
            0,
            0,
        )


def test_a_yen_deposit_rounds_to_whole_yen(db):
    customer = make_customer(db, currency="JPY")
    public_id = sent_quote(db, customer, lines=[LineInput("Work", Decimal(1), 1001)], deposit=Decimal("12.5"))
    assert client_quote(db, customer, public_id, now=NOW).deposit == Money(125, "JPY")  # 125.125
    accept(db, customer, public_id)
    with db.reading() as session:
        assert session.scalars(select(Invoice.total_minor)).one() == 125


# --- the invoice a quote becomes -----------------------------------------------------------------------

four_decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4)
percents = st.decimals(min_value=0, max_value=100, places=4)
lines_strategy = st.lists(
    st.builds(
        LineInput,
        st.text(alphabet="abcXYZ é", min_size=1, max_size=12).filter(str.strip),
        four_decimals,
        st.integers(min_value=0, max_value=10**8),
        percents,
        percents,
        st.sampled_from(["", "VAT", "GST"]),
    ),
    min_size=1,
    max_size=6,
)


# Each example adds a customer to the same database: id(lines) could repeat between examples, a count cannot.
CUSTOMER_NUMBERS = itertools.count()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines_strategy, currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_the_invoice_of_an_accepted_quote_carries_exactly_its_lines_and_totals(db, lines, currency):
    customer = make_customer(db, currency=currency, email=f"ann{next(CUSTOMER_NUMBERS)}@client.example")
    public_id = sent_quote(db, customer, lines=lines)
    sheet = quote_sheet(db, customer.organization_id, public_id, now=NOW)
    accepted = accept(db, customer, public_id)
    expected = document_totals(lines, currency)
    with db.reading() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.public_id == accepted.invoice_public_id)
        ).one()
        invoice_lines = session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position)
        ).all()
        assert (invoice.currency, invoice.subtotal_minor, invoice.discount_minor, invoice.tax_minor) == (
            currency,
            sheet.subtotal.minor,
            sheet.discount.minor,
            sheet.tax.minor,
        )
        assert invoice.total_minor == invoice.balance_due_minor == sheet.total.minor == expected.total.minor
        assert [
            (
                line.description,
                line.quantity,
                line.unit_price_minor,
                line.discount_percent,
                line.tax_rate_percent,
                line.tax_name,
                line.amount_minor,
                line.discount_minor,
                line.tax_minor,
            )
            for line in invoice_lines
        ] == [
            (
                given_line.description,
                given_line.quantity,
                given_line.unit_price_minor,
                given_line.discount_percent,
                given_line.tax_rate_percent,
                given_line.tax_name,
                computed.amount_minor,
                computed.discount_minor,
                computed.tax_minor,
            )
            for given_line, computed in zip(lines, expected.lines, strict=True)
        ]


def test_a_quantity_finer_than_the_books_keep_is_refused_not_rounded_away(db, customer):
    """Lines store four decimals: a quote priced on 1.00004 hours would carry a total its own stored lines
    (and the invoice made from them) do not add up to."""
    with pytest.raises(InvalidDetails) as refused:
        write_quote(db, customer, lines=[LineInput("Hours", Decimal("1.00004"), 100_000_00)])
    assert set(refused.value.errors) == {"line 1"}


@pytest.mark.parametrize(
    "answer",
    [
        ("accept", "A" * 200),
        ("accept", "Ann 😀 Smith 🇩🇪 𝔄𝔫𝔫 ﷽"),
        ("accept", "عبد الله بن محمد"),
        ("decline", "x" * 2000),
        ("decline", "Too dear 😀\n" * 150),
    ],
    ids=["long-signature", "emoji-signature", "arabic-signature", "unbroken-reason", "emoji-reason"],
)
def test_the_pdf_of_an_answered_quote_renders_whatever_the_customer_typed(db, customer, answer):
    kind, text = answer
    public_id = sent_quote(db, customer)
    if kind == "accept":
        accept(db, customer, public_id, name=text)
    else:
        decline(db, customer, public_id, reason=text)
    for document in (
        client_quote(db, customer, public_id, now=SIGNED_AT),
        quote_sheet(db, customer.organization_id, public_id, now=SIGNED_AT),
    ):
        pages = PdfReader(BytesIO(render_quote_pdf(document))).pages
        assert "QT-00001" in " ".join(page.extract_text() or "" for page in pages)


def test_quotes_written_at_once_take_distinct_numbers(db, customer):
    start = threading.Barrier(4)
    made: list[str] = []
    failures: list[BaseException] = []

    def write() -> None:
        start.wait()
        try:
            made.append(write_quote(db, customer))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with db.reading() as session:
        assert sorted(session.scalars(select(Quote.number))) == [f"QT-0000{n}" for n in range(1, 5)]


@pytest.mark.parametrize(
    "line",
    [LineInput("Big", Decimal(1), 10**30), LineInput("Big", Decimal("1E+30"), 1)],
    ids=["rate", "quantity"],
)
def test_an_absurd_rate_or_quantity_is_refused_for_its_line(db, customer, line):
    with pytest.raises(InvalidDetails) as refused:
        write_quote(db, customer, lines=[line])
    assert set(refused.value.errors) == {"line 1"}
