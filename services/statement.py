"""The Statement of Accounts: a client's transactions over a period with the running balance it leaves.

Each record that moves the balance (what the client owes: positive, or is owed: negative) is one line:

    invoice issued           +total    its date (see below)
    invoice voided           -total    the day it was voided
    credit note issued       -total    its date (see below)
    credit note voided       +total    the day it was voided
    payment succeeded        -amount   the day it was received (invoice and retainer payments alike)
    refund                   +amount   the day it was paid out

Retainer invoices and drafts are no lines: a retainer invoice only asks for an advance, which counts
when it is paid. Days are UTC calendar days. A document counts from its own date, or from the day it
was issued to the client if that is earlier: an invoice dated ahead is owed (and on the dashboard) from
the day it is sent, so it cannot be missing from a statement that ends today. Hence, for a period
ending today,

    closing balance = invoices - payments - credit notes + refunds
                    = outstanding - available credits - available retainer     (services/balances.py)

Within a day lines go by kind, in the order of ``LINE_ORDER`` (what is owed first, then what pays or
credits it, then refunds, then voids), and within a kind in the order the records were made (by id).

The current periods (This Month, This Quarter, This Year) end today: a statement reads "to date", and
its closing balance is what the client owes now. Last Month and Last Year are whole periods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select

from models import (
    Client,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Organization,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from services.balances import client_balances, ledger_balance
from services.dashboard import Address
from services.database import Database
from services.dates import format_day
from services.errors import InvalidPeriod, NotFound
from services.i18n import N_, _, formatting_locale
from services.i18n.terms import term
from services.invoice_detail import Party
from services.invoices import PAYABLE_STATUSES
from services.money import Money
from services.principal import Principal

MAX_PERIOD_YEARS = 10
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


# --- periods ------------------------------------------------------------------------------------------


class PeriodPreset(StrEnum):
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_QUARTER = "this_quarter"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"
    CUSTOM = "custom"


PRESET_LABELS = {
    PeriodPreset.THIS_MONTH: N_("This Month"),
    PeriodPreset.LAST_MONTH: N_("Last Month"),
    PeriodPreset.THIS_QUARTER: N_("This Quarter"),
    PeriodPreset.THIS_YEAR: N_("This Year"),
    PeriodPreset.LAST_YEAR: N_("Last Year"),
    PeriodPreset.CUSTOM: N_("Custom"),
}
DEFAULT_PRESET = PeriodPreset.THIS_YEAR


@dataclass(frozen=True)
class Period:
    """The days a statement covers, both included."""

    preset: PeriodPreset
    start: date
    end: date

    @property
    def label(self) -> str:
        return _(PRESET_LABELS[self.preset])

    def dates(self, locale: str = "en_US") -> str:
        """The first and last day, e.g. ``Jan 1, 2026 to Nov 28, 2026`` with an en dash."""
        return f"{format_day(self.start, locale)} – {format_day(self.end, locale)}"

    def query(self) -> dict[str, str]:
        """The period as URL query parameters: ``period`` and, for a custom range, ``start`` and ``end``."""
        if self.preset != PeriodPreset.CUSTOM:
            return {"period": self.preset.value}
        return {"period": self.preset.value, "start": self.start.isoformat(), "end": self.end.isoformat()}


def resolve_period(
    preset: PeriodPreset | str,
    *,
    today: date,
    start: date | None = None,
    end: date | None = None,
) -> Period:
    """The days of ``preset`` as of ``today``; ``start`` and ``end`` are for ``custom`` only.

    A custom range may lie in the future (its statement is empty), but must not end before it starts
    or run longer than ``MAX_PERIOD_YEARS`` years.
    """
    preset = PeriodPreset(preset)
    if preset == PeriodPreset.CUSTOM:
        return _custom(start, end)
    first_of_month = today.replace(day=1)
    if preset == PeriodPreset.THIS_MONTH:
        return Period(preset, first_of_month, today)
    if preset == PeriodPreset.LAST_MONTH:
        last_day = first_of_month - timedelta(days=1)
        return Period(preset, last_day.replace(day=1), last_day)
    if preset == PeriodPreset.THIS_QUARTER:
        return Period(preset, date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today)
    if preset == PeriodPreset.THIS_YEAR:
        return Period(preset, date(today.year, 1, 1), today)
    return Period(preset, date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))


def period_from_query(params: Mapping[str, str], *, today: date) -> Period:
    """The period a URL asks for (see ``Period.query``). An unknown preset means the default one;
    a custom range that is missing, malformed or not allowed raises ``InvalidPeriod``."""
    try:
        preset = PeriodPreset(params.get("period") or DEFAULT_PRESET)
    except ValueError:
        preset = DEFAULT_PRESET
    if preset != PeriodPreset.CUSTOM:
        return resolve_period(preset, today=today)
    return _custom(_parse_day(params.get("start", ""), "start"), _parse_day(params.get("end", ""), "end"))


def _parse_day(text: str, which: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        message = (
            _("The start date {text} is not a date.")
            if which == "start"
            else _("The end date {text} is not a date.")
        )
        raise InvalidPeriod("not_a_date", message.format(text=repr(text.strip()[:20]))) from None


def _custom(start: date | None, end: date | None) -> Period:
    if start is None or end is None:
        raise InvalidPeriod("missing", _("Choose both a start date and an end date."))
    if not (EARLIEST_DAY <= start <= LATEST_DAY and EARLIEST_DAY <= end <= LATEST_DAY):
        raise InvalidPeriod(
            "out_of_range",
            _("Choose dates between {first} and {last}.").format(
                first=EARLIEST_DAY.year, last=LATEST_DAY.year
            ),
        )
    if end < start:
        raise InvalidPeriod("end_before_start", _("The end date is before the start date."))
    if end >= _years_later(start, MAX_PERIOD_YEARS):
        raise InvalidPeriod(
            "too_long",
            _("A statement covers at most {count} years; choose a shorter period.").format(
                count=MAX_PERIOD_YEARS
            ),
        )
    return Period(PeriodPreset.CUSTOM, start, end)


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29th in a year that has none
        return day.replace(year=day.year + years, day=28)


# --- the statement ------------------------------------------------------------------------------------


class LineKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    RETAINER_PAYMENT = "retainer_payment"
    REFUND = "refund"
    INVOICE_VOID = "invoice_void"
    CREDIT_NOTE_VOID = "credit_note_void"


# The order of lines within a day; payments of both kinds share a place and go by id.
LINE_ORDER = {
    LineKind.INVOICE: 0,
    LineKind.CREDIT_NOTE: 1,
    LineKind.PAYMENT: 2,
    LineKind.RETAINER_PAYMENT: 2,
    LineKind.REFUND: 3,
    LineKind.INVOICE_VOID: 4,
    LineKind.CREDIT_NOTE_VOID: 5,
}

AGEING_LABELS = (N_("Current"), N_("1-30 days"), N_("31-60 days"), N_("61-90 days"), N_("Over 90 days"))


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One transaction. Amounts are kept in minor units and handed out as ``Money``: a statement of ten
    thousand lines is built in a fraction of the time that way, and a page formats only what it shows.
    """

    day: date
    kind: LineKind
    reference: str  # the document or receipt number: INV-00012, CN-00001, RCPT-00007
    description: str  # "Invoice", "Payment · Visa •••• 4242", "Refund of credit note"
    amount_minor: int  # positive when it adds to what the client owes
    balance_minor: int  # the running balance after this line
    currency: str
    due_date: date | None = None  # an invoice's
    document_kind: str = ""  # what ``reference`` names, for a link to it: invoice | credit_note | payment
    document_id: str = ""  # that document's public id

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def balance(self) -> Money:
        return Money(self.balance_minor, self.currency)

    def text(self, locale: str = "en_US") -> str:
        """The description as people read it: ``Invoice, due Jan 12, 2026`` for an invoice."""
        if self.due_date is None:
            return self.description
        return _("{description}, due {date}").format(
            description=self.description, date=_format_day(self.due_date, locale)
        )


@lru_cache(maxsize=4096)
def _format_day(day: date, locale: str) -> str:
    return format_day(day, locale)  # Babel takes tens of microseconds a date; a statement repeats them


@dataclass(frozen=True)
class StatementSummary:
    """The period's movements, each as a positive amount (credited and received reduce the balance)."""

    opening: Money
    invoiced: Money  # invoices issued in the period less those voided in it
    received: Money  # payments received in the period, retainer payments included
    credited: Money  # credit notes issued in the period less those voided in it
    refunded: Money  # refunds paid out in the period
    balance_due: Money  # the closing balance: opening + invoiced - received - credited + refunded


@dataclass(frozen=True)
class AgeingBucket:
    label: str
    amount: Money
    invoices: int


@dataclass(frozen=True)
class ChartPoint:
    day: date
    balance: Money


@dataclass(frozen=True)
class Statement:
    period: Period
    today: date
    currency: str
    locale: str
    business: Party
    client: Party
    opening: Money
    lines: tuple[StatementLine, ...]
    closing: Money
    summary: StatementSummary
    ageing: tuple[AgeingBucket, ...]  # what is outstanding today, by days past due: AGEING_LABELS
    chart: tuple[ChartPoint, ...]  # the opening, the balance after each day with lines, the closing

    @property
    def outstanding(self) -> Money:
        """The open invoices' balance due today: the ageing's total."""
        return Money(sum(bucket.amount.minor for bucket in self.ageing), self.currency)

    @property
    def credits_counted(self) -> Money | None:
        """What sets the closing balance below ``outstanding``: the credits and retainer payments the
        client has available, not yet applied to an invoice (``outstanding - closing``). Only for a
        period that ends today or later, whose closing balance is today's; ``None`` for one that ended
        before (its closing balance and today's outstanding invoices are of different days)."""
        if self.period.end < self.today:
            return None
        return Money(self.outstanding.minor - self.closing.minor, self.currency)


def build_statement(
    db: Database, principal: Principal, period: Period, *, today: date, locale: str | None = None
) -> Statement:
    """The signed-in client's statement for ``period``, with the ageing of what is outstanding ``today``.

    Five queries whatever the history's size: the parties with the opening balance summed in SQL, then
    the period's invoices (with those open today), credit notes, payments and refunds.
    """
    start_at = _midnight(period.start)
    end_before = _midnight(period.end + timedelta(days=1))
    with db.reading() as session:
        head = session.execute(_head_query(principal, period.start, start_at)).one_or_none()
        if head is None:
            raise NotFound("client", principal.client_id)
        client = head.Client
        organization = head.Organization
        currency = client.currency
        locale = locale or formatting_locale(organization.locale)
        charged = head.invoiced - head.invoices_voided + head.refunded
        opening = int(charged - head.credited + head.credits_voided - head.received)
        collector = _Collector(period, today)
        # Plain rows through the connection: the ORM's row handling would double the time of a long period.
        connection = session.connection()
        for row in connection.execute(_invoices_query(principal.client_id, period, start_at, end_before)):
            collector.invoice(row)
        for row in connection.execute(_credit_notes_query(principal.client_id, period, start_at, end_before)):
            collector.credit_note(row)
        for row in connection.execute(_payments_query(principal.client_id, start_at, end_before)):
            collector.payment(row)
        for row in connection.execute(_refunds_query(principal.client_id, start_at, end_before)):
            collector.refund(row)
        business = _party(organization, organization.name, "", organization.website)
        customer = _party(client, client.display_name, client.company_name, "")
    return collector.statement(opening, currency, locale, business, customer)


@dataclass(frozen=True)
class StatementCheck:
    """A statement set beside the ledger and the dashboard; ``problems`` lists every disagreement."""

    statement: Statement
    ledger: Money  # invoices - payments - credit notes + refunds, now
    dashboard_net: Money  # outstanding - available credits - available retainer, now
    problems: tuple[str, ...]


def check_statement(db: Database, principal: Principal, period: Period, *, today: date) -> StatementCheck:
    """Build the statement and check it: its running balances, summary and chart add up, its ageing is
    the dashboard's outstanding, and, for a period that ends today or later, its closing balance is the
    ledger's and the dashboard's net balance. For property tests and for checking data after an import.
    """
    statement = build_statement(db, principal, period, today=today)
    with db.reading() as session:
        currency = statement.currency
        ledger = ledger_balance(session, principal.client_id, currency)
        balances = client_balances(session, principal.client_id, currency)
    problems = []
    running = statement.opening.minor
    for index, line in enumerate(statement.lines):
        running += line.amount.minor
        if line.balance.minor != running:
            problems.append(
                f"line {index} ({line.reference}): balance {line.balance.minor}, expected {running}"
            )
            break
        if not period.start <= line.day <= period.end:
            problems.append(f"line {index} ({line.reference}) on {line.day} is outside the period")
    if statement.closing.minor != running:
        problems.append(f"closing {statement.closing.minor} but the lines add up to {running}")
    summary = statement.summary
    moved = summary.invoiced - summary.received - summary.credited + summary.refunded
    if summary.opening != statement.opening or summary.balance_due != statement.opening + moved:
        problems.append("the summary does not add up to the closing balance")
    if statement.chart[-1].balance != statement.closing:
        problems.append("the chart does not end at the closing balance")
    if statement.outstanding != balances.outstanding:
        problems.append(
            f"ageing totals {statement.outstanding.minor}, outstanding is {balances.outstanding.minor}"
        )
    if period.end >= today and not statement.closing == ledger == balances.net:
        problems.append(
            f"closing {statement.closing.minor}, ledger {ledger.minor}, dashboard net {balances.net.minor}"
        )
    return StatementCheck(statement, ledger, balances.net, tuple(problems))


# --- queries ------------------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _total(column: Any, *conditions: Any) -> Any:
    return select(func.coalesce(func.sum(column), 0)).where(*conditions).scalar_subquery()


def _head_query(principal: Principal, start: date, start_at: datetime) -> Any:
    """The client and business, and the opening balance's parts: everything dated before ``start``."""
    client_id = principal.client_id
    return (
        select(
            Client,
            Organization,
            _total(
                Invoice.total_minor,
                Invoice.client_id == client_id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status != InvoiceStatus.DRAFT,
                or_(Invoice.issue_date < start, Invoice.sent_at < start_at),
            ).label("invoiced"),
            _total(
                Invoice.total_minor,
                Invoice.client_id == client_id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status == InvoiceStatus.VOID,
                Invoice.voided_at < start_at,
            ).label("invoices_voided"),
            _total(
                CreditNote.total_minor,
                CreditNote.client_id == client_id,
                CreditNote.status != CreditNoteStatus.DRAFT,
                or_(CreditNote.issue_date < start, CreditNote.issued_at < start_at),
            ).label("credited"),
            _total(
                CreditNote.total_minor,
                CreditNote.client_id == client_id,
                CreditNote.status == CreditNoteStatus.VOID,
                CreditNote.voided_at < start_at,
            ).label("credits_voided"),
            _total(
                Payment.amount_minor,
                Payment.client_id == client_id,
                Payment.status == PaymentStatus.SUCCEEDED,
                Payment.received_at < start_at,
            ).label("received"),
            _total(
                Refund.amount_minor,
                Refund.client_id == client_id,
                Refund.status != RefundStatus.FAILED,
                Refund.refunded_at < start_at,
            ).label("refunded"),
        )
        .join(Organization, Organization.id == Client.organization_id)
        .where(Client.id == client_id, Client.organization_id == principal.organization_id)
    )


def _issued_in(
    issue_date: Any, issued_at: Any, period: Period, start_at: datetime, end_before: datetime
) -> Any:
    """The document counts in the period: the earlier of its date and its issuing day is in it."""
    not_before = and_(issue_date >= period.start, or_(issued_at.is_(None), issued_at >= start_at))
    not_after = or_(issue_date <= period.end, issued_at < end_before)
    return and_(not_before, not_after)


def _invoices_query(client_id: int, period: Period, start_at: datetime, end_before: datetime) -> Any:
    """The period's invoices and voids, and every invoice open today (for the ageing)."""
    return select(
        Invoice.id,
        Invoice.public_id,
        Invoice.number,
        Invoice.status,
        Invoice.issue_date,
        Invoice.due_date,
        Invoice.total_minor,
        Invoice.balance_due_minor,
        Invoice.sent_at,
        Invoice.voided_at,
    ).where(
        Invoice.client_id == client_id,
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.status != InvoiceStatus.DRAFT,
        or_(
            _issued_in(Invoice.issue_date, Invoice.sent_at, period, start_at, end_before),
            and_(Invoice.voided_at >= start_at, Invoice.voided_at < end_before),
            and_(Invoice.status.in_(PAYABLE_STATUSES), Invoice.balance_due_minor > 0),
        ),
    )


def _credit_notes_query(client_id: int, period: Period, start_at: datetime, end_before: datetime) -> Any:
    return select(
        CreditNote.id,
        CreditNote.public_id,
        CreditNote.number,
        CreditNote.status,
        CreditNote.issue_date,
        CreditNote.issued_at,
        CreditNote.voided_at,
        CreditNote.total_minor,
        CreditNote.reason,
    ).where(
        CreditNote.client_id == client_id,
        CreditNote.status != CreditNoteStatus.DRAFT,
        or_(
            _issued_in(CreditNote.issue_date, CreditNote.issued_at, period, start_at, end_before),
            and_(CreditNote.voided_at >= start_at, CreditNote.voided_at < end_before),
        ),
    )


def _payments_query(client_id: int, start_at: datetime, end_before: datetime) -> Any:
    return select(
        Payment.id,
        Payment.public_id,
        Payment.kind,
        Payment.receipt_number,
        Payment.amount_minor,
        Payment.method,
        Payment.method_brand,
        Payment.method_last4,
        Payment.received_at,
    ).where(
        Payment.client_id == client_id,
        Payment.status == PaymentStatus.SUCCEEDED,
        Payment.received_at >= start_at,
        Payment.received_at < end_before,
    )


def _refunds_query(client_id: int, start_at: datetime, end_before: datetime) -> Any:
    return (
        select(
            Refund.id,
            Refund.amount_minor,
            Refund.refunded_at,
            Payment.kind.label("payment_kind"),
            Payment.public_id.label("payment_public_id"),
            Payment.receipt_number,
            CreditNote.public_id.label("credit_note_public_id"),
            CreditNote.number.label("credit_note_number"),
        )
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .outerjoin(CreditNote, CreditNote.id == Refund.credit_note_id)
        .where(
            Refund.client_id == client_id,
            Refund.status != RefundStatus.FAILED,
            Refund.refunded_at >= start_at,
            Refund.refunded_at < end_before,
        )
    )


def _party(row: Client | Organization, name: str, company: str, website: str) -> Party:
    address = Address(
        row.address_line1, row.address_line2, row.city, row.region, row.postal_code, row.country
    )
    return Party(name, company, row.email, row.phone, website, tuple(address.lines()))


# --- from rows to lines -------------------------------------------------------------------------------

# day, order within the day, id, kind, reference, description, amount, due date, the document referred to
# (its kind and public id)
_Entry = tuple[date, int, int, LineKind, str, str, int, date | None, tuple[str, str]]
INVOICE, CREDIT_NOTE, PAYMENT = "invoice", "credit_note", "payment"  # StatementLine.document_kind


class _Collector:
    """Turns the rows of the four queries into the statement's lines, ageing and figures."""

    def __init__(self, period: Period, today: date) -> None:
        self.period, self.today = period, today
        self.entries: list[_Entry] = []
        self.ageing = [0] * len(AGEING_LABELS)
        self.ageing_counts = [0] * len(AGEING_LABELS)
        self._methods: dict[tuple[str, str, str, str], str] = {}

    def _add(
        self,
        day: date,
        kind: LineKind,
        row_id: int,
        reference: str,
        text: str,
        amount: int,
        document: tuple[str, str],
        due_date: date | None = None,
    ) -> None:
        self.entries.append(
            (day, LINE_ORDER[kind], row_id, kind, reference, text, amount, due_date, document)
        )

    def _in_period(self, day: date) -> bool:
        return self.period.start <= day <= self.period.end

    def invoice(self, row: Any) -> None:
        issued = _counts_from(row.issue_date, row.sent_at)
        document = (INVOICE, row.public_id)
        if self._in_period(issued):
            kind = LineKind.INVOICE
            self._add(issued, kind, row.id, row.number, _("Invoice"), row.total_minor, document, row.due_date)
        if row.status == InvoiceStatus.VOID and row.voided_at is not None:
            voided = row.voided_at.date()
            if self._in_period(voided):
                kind = LineKind.INVOICE_VOID
                self._add(voided, kind, row.id, row.number, _("Invoice voided"), -row.total_minor, document)
        if row.status in PAYABLE_STATUSES and row.balance_due_minor > 0:
            bucket = _ageing_bucket((self.today - row.due_date).days)
            self.ageing[bucket] += row.balance_due_minor
            self.ageing_counts[bucket] += 1

    def credit_note(self, row: Any) -> None:
        issued = _counts_from(row.issue_date, row.issued_at)
        document = (CREDIT_NOTE, row.public_id)
        if self._in_period(issued):
            reason = row.reason.strip().splitlines()[0] if row.reason.strip() else ""
            text = f"{_('Credit note')} · {reason}" if reason else _("Credit note")
            self._add(issued, LineKind.CREDIT_NOTE, row.id, row.number, text, -row.total_minor, document)
        if row.status == CreditNoteStatus.VOID and row.voided_at is not None:
            voided = row.voided_at.date()
            if self._in_period(voided):
                kind = LineKind.CREDIT_NOTE_VOID
                self._add(
                    voided, kind, row.id, row.number, _("Credit note voided"), row.total_minor, document
                )

    def payment(self, row: Any) -> None:
        key = (row.kind, row.method, row.method_brand, row.method_last4)
        text = self._methods.get(key)
        if text is None:  # a client pays in a handful of ways: the same few texts, made once
            label = _("Retainer payment") if row.kind == PaymentKind.RETAINER else _("Payment")
            text = self._methods[key] = f"{label} · {_method(row.method, row.method_brand, row.method_last4)}"
        kind = LineKind.RETAINER_PAYMENT if row.kind == PaymentKind.RETAINER else LineKind.PAYMENT
        document = (PAYMENT, row.public_id)
        reference = row.receipt_number or ""
        self._add(row.received_at.date(), kind, row.id, reference, text, -row.amount_minor, document)

    def refund(self, row: Any) -> None:
        if row.credit_note_number is not None:
            reference, text = row.credit_note_number, _("Refund of credit note")
            document = (CREDIT_NOTE, row.credit_note_public_id)
        elif row.payment_kind == PaymentKind.RETAINER:
            reference, text = row.receipt_number or "", _("Refund of retainer payment")
            document = (PAYMENT, row.payment_public_id)
        else:
            reference, text = row.receipt_number or "", _("Refund of overpayment")
            document = (PAYMENT, row.payment_public_id)
        self._add(
            row.refunded_at.date(), LineKind.REFUND, row.id, reference, text, row.amount_minor, document
        )

    def statement(
        self, opening: int, currency: str, locale: str, business: Party, client: Party
    ) -> Statement:
        self.entries.sort(key=lambda entry: entry[:3])
        lines: list[StatementLine] = []
        balances: list[tuple[date, int]] = []  # the balance at the end of each day with lines
        moved = dict.fromkeys(LineKind, 0)
        running = opening
        for day, _order, _id, kind, reference, text, amount, due_date, document in self.entries:
            running += amount
            moved[kind] += amount
            lines.append(
                StatementLine(day, kind, reference, text, amount, running, currency, due_date, *document)
            )
            if balances and balances[-1][0] == day:
                balances[-1] = (day, running)
            else:
                balances.append((day, running))
        if not balances or balances[-1][0] < self.period.end:
            balances.append((self.period.end, running))

        def money(minor: int) -> Money:
            return Money(minor, currency)

        chart = (
            ChartPoint(self.period.start, money(opening)),
            *(ChartPoint(d, money(b)) for d, b in balances),
        )
        summary = StatementSummary(
            opening=money(opening),
            invoiced=money(moved[LineKind.INVOICE] + moved[LineKind.INVOICE_VOID]),
            received=money(-moved[LineKind.PAYMENT] - moved[LineKind.RETAINER_PAYMENT]),
            credited=money(-moved[LineKind.CREDIT_NOTE] - moved[LineKind.CREDIT_NOTE_VOID]),
            refunded=money(moved[LineKind.REFUND]),
            balance_due=money(running),
        )
        ageing = tuple(
            AgeingBucket(_(label), money(amount), count)
            for label, amount, count in zip(AGEING_LABELS, self.ageing, self.ageing_counts, strict=True)
        )
        return Statement(
            period=self.period,
            today=self.today,
            currency=currency,
            locale=locale,
            business=business,
            client=client,
            opening=money(opening),
            lines=tuple(lines),
            closing=money(running),
            summary=summary,
            ageing=ageing,
            chart=chart,
        )


def _counts_from(document_date: date, issued_at: datetime | None) -> date:
    """The day a document counts from: its date, or the day it was issued if that is earlier."""
    if issued_at is None:
        return document_date
    return min(document_date, issued_at.date())


def _ageing_bucket(days_past_due: int) -> int:
    if days_past_due <= 0:
        return 0
    return min(4, (days_past_due - 1) // 30 + 1)


def _method(method: str, brand: str, last4: str) -> str:
    """ "Visa •••• 4242", "SEPA Direct Debit •••• 3000", "Bank transfer", "Cash" """
    if last4:
        return f"{brand or (_('Card') if method == 'card' else _('Bank account'))} •••• {last4}"
    return term(method.replace("_", " ").capitalize())
