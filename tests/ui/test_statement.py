"""Statement of Accounts in the portal: the period in the URL and its selector, the figures, the
transactions, a refused custom range, and the PDF route."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy import select

from models import Client, CreditNote, PortalUser
from services import portal
from services.dates import format_day
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.money import format_money
from services.principal import Principal
from services.statement import Statement, build_statement, resolve_period
from tests.ui.conftest import balances_of, post_login


def today() -> date:
    return portal.current().clock().date()


def statement_of(email: str, preset: str, **dates: date) -> Statement:
    """What the service says the statement is, for the customer who signs in with ``email``."""
    current = portal.current()
    with current.db.reading() as session:
        user, client = session.execute(
            select(PortalUser, Client)
            .join(Client, Client.id == PortalUser.client_id)
            .where(PortalUser.email == email)
        ).one()
        principal = Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)
    period = resolve_period(preset, today=today(), **dates)
    return build_statement(current.db, principal, period, today=today())


def table_rows(user) -> list[dict]:
    (table,) = user.find(marker="statement-table").elements
    return table.rows


def figure(user, marker: str) -> str:
    (label,) = user.find(marker=f"{marker}-amount").elements
    return label.text


async def test_this_year_is_shown_first_and_closes_at_the_dashboards_net_balance(user):
    await post_login(user)
    await user.open("/statement")
    year = today().year
    expected = statement_of(CUSTOMER_EMAIL, "this_year")
    net = balances_of(CUSTOMER_EMAIL).net
    await user.should_see(f"This Year: Jan 1, {year} – {format_day(today())}")
    assert figure(user, "statement-closing") == format_money(net) == format_money(expected.closing)
    assert figure(user, "statement-opening") == format_money(expected.summary.opening)
    assert figure(user, "statement-invoiced") == format_money(expected.summary.invoiced)
    assert figure(user, "statement-received") == format_money(expected.summary.received)
    assert figure(user, "statement-credited") == format_money(expected.summary.credited)
    rows = table_rows(user)
    assert [row["description"] for row in (rows[0], rows[-1])] == [
        "Balance brought forward",
        "Closing balance",
    ]
    assert rows[-1]["balance"] == format_money(net)
    assert [row["reference"] for row in rows[1:-1]] == [line.reference for line in expected.lines]
    (outstanding,) = user.find(marker="statement-outstanding").elements
    assert outstanding.text == format_money(balances_of(CUSTOMER_EMAIL).outstanding)
    await user.should_see(marker="statement-chart")
    (download,) = user.find(marker="statement-download").elements
    assert download.props["href"] == "/statement/pdf?period=this_year&download=1"


async def test_the_closing_figure_is_named_by_its_day_and_reconciled_with_the_total_outstanding(user):
    await post_login(user)
    await user.open("/statement")
    balances = balances_of(CUSTOMER_EMAIL)
    credits = balances.available_credits + balances.available_retainer
    assert credits.minor > 0  # the demo customer has credits and retainer: the two figures differ
    await user.should_see(f"Balance on {format_day(today())}")
    await user.should_not_see("Balance Due")
    await user.should_see("Total outstanding")
    (sentence,) = user.find(marker="statement-reconciliation").elements
    assert sentence.text == (
        f"Total outstanding {format_money(balances.outstanding)}, less {format_money(credits)} of available "
        f"credits and retainer payments, leaves a balance of {format_money(balances.net)}."
    )
    # Last year ended before today: its closing balance is set beside no outstanding figure of today's.
    (choice,) = user.find(marker="statement-period").elements
    choice.value = "last_year"
    await user.should_see(f"Balance on Dec 31, {today().year - 1}")
    await user.should_not_see(marker="statement-reconciliation")


async def test_each_transaction_links_to_its_document(user):
    with portal.current().db.reading() as session:
        note = session.scalars(
            select(CreditNote)
            .join(PortalUser, PortalUser.client_id == CreditNote.client_id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()  # the demo's CN-00001
    year_ago = today() - timedelta(days=365)  # the demo's history follows today's date
    await post_login(user)
    await user.open(f"/statement?period=custom&start={year_ago.isoformat()}&end={today().isoformat()}")
    expected = statement_of(CUSTOMER_EMAIL, "custom", start=year_ago, end=today())
    await user.should_see(marker="statement-table")
    links = {row["reference"]: row["link"] for row in table_rows(user)[1:-1]}
    assert links[note.number] == f"/credit-notes/{note.public_id}"
    invoice = next(line for line in expected.lines if line.document_kind == "invoice")
    payment = next(line for line in expected.lines if line.document_kind == "payment")
    assert links[invoice.reference] == f"/invoices/{invoice.document_id}"
    assert links[payment.reference] == f"/payments/{payment.document_id}"


async def test_changing_the_period_changes_what_is_shown(user):
    await post_login(user)
    await user.open("/statement")
    last_year = statement_of(CUSTOMER_EMAIL, "last_year")
    this_year = statement_of(CUSTOMER_EMAIL, "this_year")
    assert [line.reference for line in last_year.lines] != [line.reference for line in this_year.lines]
    (choice,) = user.find(marker="statement-period").elements
    choice.value = "last_year"
    year = today().year - 1
    await user.should_see(f"Last Year: Jan 1, {year} – Dec 31, {year}")
    assert [row["reference"] for row in table_rows(user)[1:-1]] == [
        line.reference for line in last_year.lines
    ]
    assert figure(user, "statement-closing") == format_money(last_year.closing)
    (download,) = user.find(marker="statement-download").elements
    assert download.props["href"] == "/statement/pdf?period=last_year&download=1"


async def test_a_custom_range_starts_from_the_period_shown_and_a_bad_one_shows_why(user):
    await post_login(user)
    await user.open("/statement?period=this_month")
    await user.should_not_see(marker="statement-start")  # the date fields are for a custom range
    (choice,) = user.find(marker="statement-period").elements
    first_of_month = today().replace(day=1)
    choice.value = "custom"
    (start,) = user.find(marker="statement-start").elements
    (end,) = user.find(marker="statement-end").elements
    assert (start.value, end.value) == (first_of_month.isoformat(), today().isoformat())
    await user.should_see(f"Custom: {format_day(first_of_month)} – {format_day(today())}")

    start.value = "2026-05-01"
    end.value = "2026-03-01"
    await user.should_see("The end date is before the start date.")
    await user.should_not_see(marker="statement-table")

    start.value = "2026-02-01"
    await user.should_see("Custom: Feb 1, 2026 – Mar 1, 2026")
    await user.should_not_see("The end date is before the start date.")
    expected = statement_of(CUSTOMER_EMAIL, "custom", start=date(2026, 2, 1), end=date(2026, 3, 1))
    assert figure(user, "statement-closing") == format_money(expected.closing)


async def test_the_period_comes_from_the_url_and_a_bad_range_there_is_explained(user):
    await post_login(user)
    await user.open("/statement?period=custom&start=2026-01-01&end=2026-03-31")
    await user.should_see("Custom: Jan 1, 2026 – Mar 31, 2026")
    await user.open("/statement?period=custom&start=2999-01-01&end=2999-03-31")  # allowed, and empty
    await user.should_see("Custom: Jan 1, 2999 – Mar 31, 2999")
    assert [row["description"] for row in table_rows(user)] == [
        "Balance brought forward",
        "No transactions in this period.",
        "Closing balance",
    ]
    await user.open("/statement?period=custom&start=2000-01-01&end=2026-03-31")
    await user.should_see("A statement covers at most 10 years; choose a shorter period.")


async def test_the_pdf_route_gives_the_statement_as_shown(user):
    await post_login(user)
    response = await user.http_client.get("/statement/pdf?period=this_year&download=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    start, end = date(today().year, 1, 1), today()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="statement-{start.isoformat()}-{end.isoformat()}.pdf"'
    )
    pages = [page.extract_text() for page in PdfReader(BytesIO(response.content)).pages]
    assert "Statement of Accounts" in pages[0]
    assert "Bluebird Cafe LLC" in pages[0]
    assert f"Closing balance {format_money(balances_of(CUSTOMER_EMAIL).net)}" in pages[-1]

    inline = await user.http_client.get("/statement/pdf?period=last_month")
    assert inline.headers["content-disposition"].startswith("inline; ")


async def test_the_pdf_route_refuses_a_bad_period_and_a_visitor(user):
    refused = await user.http_client.get("/statement/pdf?period=custom&start=2026-05-01&end=2026-04-01")
    assert refused.status_code == 303  # not signed in: to the login page first
    assert refused.headers["location"].startswith("/login?next=%2Fstatement%2Fpdf")
    await post_login(user)
    refused = await user.http_client.get("/statement/pdf?period=custom&start=2026-05-01&end=2026-04-01")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "The end date is before the start date."


async def test_the_second_customer_sees_only_their_own_statement(user):
    await post_login(user, email=OTHER_CUSTOMER_EMAIL)
    await user.open("/statement")
    mine = statement_of(OTHER_CUSTOMER_EMAIL, "this_year")
    theirs = statement_of(CUSTOMER_EMAIL, "this_year")
    assert figure(user, "statement-closing") == format_money(balances_of(OTHER_CUSTOMER_EMAIL).net)
    shown = {row["reference"] for row in table_rows(user)}
    assert shown - {""} == {line.reference for line in mine.lines}
    assert not shown & {line.reference for line in theirs.lines}
    assert "€" in figure(user, "statement-closing")
