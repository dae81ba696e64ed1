"""The statement PDF, read back with pypdf: every transaction in order, the balance carried forward at the
top of every page after the first, the closing balance, page numbers and the period on each page."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO
from random import Random

import pytest
from pypdf import PdfReader

from services.invoice_detail import Party
from services.money import Money, format_money
from services.pdf.statement import render_statement_pdf
from services.statement import (
    AGEING_LABELS,
    AgeingBucket,
    ChartPoint,
    LineKind,
    Period,
    PeriodPreset,
    Statement,
    StatementLine,
    StatementSummary,
)

PERIOD = Period(PeriodPreset.THIS_YEAR, date(2026, 1, 1), date(2026, 11, 28))
BUSINESS = Party(
    "Northwind Design Studio",
    "",
    "hello@northwind.example",
    "+1 415 555 0142",
    "https://northwind.example",
    ("500 Market Street", "San Francisco, CA 94105", "United States"),
)
CLIENT = Party("Bluebird Cafe", "Bluebird Cafe LLC", "accounts@bluebird.example", "", "", ("18 Harbor Road",))
DESCRIPTIONS = {
    LineKind.INVOICE: "Invoice, due Feb 11, 2026",
    LineKind.PAYMENT: "Payment · Visa •••• 4242",
    LineKind.RETAINER_PAYMENT: "Retainer payment · Bank transfer",
    LineKind.CREDIT_NOTE: "Credit note · Goodwill",
    LineKind.REFUND: "Refund of credit note",
    LineKind.INVOICE_VOID: "Invoice voided",
    LineKind.CREDIT_NOTE_VOID: "Credit note voided",
}
SIGNS = {LineKind.INVOICE: 1, LineKind.REFUND: 1, LineKind.CREDIT_NOTE_VOID: 1}


def make_statement(
    count: int,
    *,
    currency: str = "USD",
    opening_minor: int = 123_456,
    client: Party = CLIENT,
    descriptions: dict[LineKind, str] | None = None,
    locale: str = "en_US",
) -> Statement:
    """A statement of ``count`` transactions over the period, with amounts that make every balance differ."""
    rng = Random(count)
    kinds = list(DESCRIPTIONS)
    lines = []
    running = opening_minor
    moved = dict.fromkeys(LineKind, 0)
    span = (PERIOD.end - PERIOD.start).days
    for index in range(count):
        kind = kinds[index % len(kinds)]
        amount = SIGNS.get(kind, -1) * rng.randrange(100, 900_000)
        running += amount
        moved[kind] += amount
        lines.append(
            StatementLine(
                PERIOD.start + timedelta(days=index * span // max(count, 1)),
                kind,
                f"DOC-{index:05d}",
                (descriptions or DESCRIPTIONS)[kind],
                amount,
                running,
                currency,
            )
        )

    def money(minor: int) -> Money:
        return Money(minor, currency)

    return Statement(
        period=PERIOD,
        today=PERIOD.end,
        currency=currency,
        locale=locale,
        business=BUSINESS,
        client=client,
        opening=money(opening_minor),
        lines=tuple(lines),
        closing=money(running),
        summary=StatementSummary(
            opening=money(opening_minor),
            invoiced=money(moved[LineKind.INVOICE] + moved[LineKind.INVOICE_VOID]),
            received=money(-moved[LineKind.PAYMENT] - moved[LineKind.RETAINER_PAYMENT]),
            credited=money(-moved[LineKind.CREDIT_NOTE] - moved[LineKind.CREDIT_NOTE_VOID]),
            refunded=money(moved[LineKind.REFUND]),
            balance_due=money(running),
        ),
        ageing=tuple(
            AgeingBucket(label, money(1_000 * (i + 1)), i + 1) for i, label in enumerate(AGEING_LABELS)
        ),
        chart=(ChartPoint(PERIOD.start, money(opening_minor)), ChartPoint(PERIOD.end, money(running))),
    )


def pages_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(content)).pages]


def money(value: Money) -> str:
    return format_money(value)


@pytest.fixture(scope="module")
def long_statement() -> tuple[Statement, list[str], float]:
    statement = make_statement(2_000)
    started = time.perf_counter()
    content = render_statement_pdf(statement)
    seconds = time.perf_counter() - started
    return statement, pages_text(content), seconds


def test_a_statement_of_2000_transactions_has_every_one_in_date_order(long_statement):
    statement, pages, _ = long_statement
    text = "\n".join(pages)
    found = re.findall(r"DOC-\d{5}", text)
    assert found == [line.reference for line in statement.lines]
    for line in statement.lines[::97]:  # each row reads date, transaction, reference, amount, balance
        row = f"{line.text()} {line.reference} {money(line.amount)} {money(line.balance)}"
        assert row in text


def test_every_page_after_the_first_carries_the_balance_forward_from_the_page_before(long_statement):
    statement, pages, _ = long_statement
    assert len(pages) > 40
    position = {line.reference: index for index, line in enumerate(statement.lines)}
    assert f"Balance brought forward {money(statement.opening)}" in pages[0]
    assert "Balance carried forward" not in pages[0]
    for number in range(1, len(pages)):
        last_before = re.findall(r"DOC-\d{5}", pages[number - 1])[-1]
        carried = statement.lines[position[last_before]].balance
        forward = re.findall(r"Balance carried forward (\S+)", pages[number])
        assert forward == [money(carried)], f"page {number + 1}"
        # It comes before the page's first transaction.
        assert pages[number].index("Balance carried forward") < pages[number].index("DOC-")


def test_the_last_page_ends_with_the_closing_balance(long_statement):
    statement, pages, _ = long_statement
    assert f"Closing balance {money(statement.closing)}" in pages[-1]
    assert statement.closing.minor == statement.opening.minor + sum(
        line.amount.minor for line in statement.lines
    )
    assert all("Closing balance" not in page for page in pages[:-1])


def test_every_page_is_numbered_and_names_the_period(long_statement):
    _, pages, _ = long_statement
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Jan 1, 2026 – Nov 28, 2026" in page
        assert "Statement of Accounts" in page


def test_2000_transactions_render_well_under_three_seconds(long_statement):
    _, _, seconds = long_statement
    assert seconds < 3.0


def test_the_first_page_has_the_parties_the_summary_and_the_ageing():
    statement = make_statement(12)
    first = pages_text(render_statement_pdf(statement))[0]
    for text in ("Northwind Design Studio", "500 Market Street", "Bluebird Cafe LLC", "18 Harbor Road"):
        assert text in first
    summary = statement.summary
    assert f"Opening balance on Jan 1, 2026 {money(summary.opening)}" in first
    assert f"Invoiced {money(summary.invoiced)}" in first
    assert f"Payments received {money(summary.received)}" in first
    assert f"Credit notes {money(summary.credited)}" in first
    assert f"Refunds {money(summary.refunded)}" in first
    assert f"Balance on Nov 28, 2026 {money(summary.balance_due)}" in first
    assert "OUTSTANDING INVOICES BY DAYS PAST DUE, AS OF NOV 28, 2026" in first
    for label in (*AGEING_LABELS, "Total outstanding"):
        assert label in first
    assert money(statement.outstanding) in first


def test_the_closing_balance_is_named_by_its_day_and_told_apart_from_the_total_outstanding():
    # Today: $150.00 of open invoices, $20.00 of credits not yet applied, so the balance is $130.00.
    statement = replace(make_statement(0, opening_minor=13_000), today=PERIOD.end)
    (page,) = pages_text(render_statement_pdf(statement))
    assert "Balance on Nov 28, 2026 $130.00" in page
    assert "Balance due" not in page
    assert "Total outstanding $150.00" in page.replace("\n", " ")
    assert (
        "Total outstanding $150.00, less $20.00 of available credits and retainer payments, leaves a "
        "balance of $130.00." in page
    )
    # A period that ended before today: its balance and today's open invoices are of different days.
    ended = replace(statement, today=PERIOD.end + timedelta(days=3))
    (page,) = pages_text(render_statement_pdf(ended))
    assert "Balance on Nov 28, 2026 $130.00" in page
    assert "available credits" not in page


def test_an_empty_period_says_so_and_closes_at_the_opening_balance():
    statement = make_statement(0, opening_minor=-4_200)
    (page,) = pages_text(render_statement_pdf(statement))
    assert "No transactions in this period." in page
    assert "Balance brought forward -$42.00" in page
    assert "Closing balance -$42.00" in page


def test_a_long_description_is_shortened_to_its_column():
    long = "Credit note · " + "a very long reason that goes on and on " * 5
    statement = make_statement(7, descriptions={**DESCRIPTIONS, LineKind.CREDIT_NOTE: long})
    (page,) = pages_text(render_statement_pdf(statement))
    row = next(line for line in page.splitlines() if "Credit note · a very long" in line)
    assert "…" in row
    assert long.strip() not in page
    assert "DOC-00003" in row  # the reference column is still there, after the shortened text


def test_other_scripts_and_currencies_print_in_the_embedded_font():
    client = Party("Кафе «Синяя птица»", "", "", "", "", ("Москва",))
    statement = make_statement(30, currency="JPY", client=client, opening_minor=5_000)
    content = render_statement_pdf(statement)
    assert b"/FontFile2" in content
    pages = pages_text(content)
    assert "Кафе «Синяя птица»" in pages[0]
    assert "¥5,000" in pages[0]
    assert f"Closing balance {money(statement.closing)}" in pages[-1]


def test_a_latin_statement_uses_the_standard_font_and_embeds_none():
    content = render_statement_pdf(make_statement(30))
    assert b"/FontFile2" not in content
    assert b"/Helvetica" in content


def test_the_same_statement_gives_the_same_bytes():
    statement = make_statement(50)
    assert render_statement_pdf(statement) == render_statement_pdf(statement)


def test_amounts_follow_the_locale():
    statement = make_statement(5, currency="EUR", locale="de_DE")
    (page,) = pages_text(render_statement_pdf(statement))
    assert format_money(statement.closing, "de_DE") in page
    assert "01.01.2026" in page
