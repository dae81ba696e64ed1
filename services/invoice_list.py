"""The customer's list of invoices: filtered, searched, sorted and paged in SQL, never in memory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from models import Invoice, InvoiceKind, InvoiceStatus
from services.database import Database
from services.invoices import PAYABLE_STATUSES
from services.money import Money
from services.online_payments import being_confirmed, in_flight
from services.paging import page_number
from services.principal import Principal

MAX_PAGE_SIZE = 100
SEARCH_ID_LIMIT = 500  # more matches than this are counted and paged in SQL as usual


class InvoiceFilter(StrEnum):
    ALL = "all"
    UNPAID = "unpaid"
    OVERDUE = "overdue"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    VOID = "void"
    RETAINER = "retainer"


FILTER_LABELS = {
    InvoiceFilter.ALL: "All",
    InvoiceFilter.UNPAID: "Unpaid",
    InvoiceFilter.OVERDUE: "Overdue",
    InvoiceFilter.PARTIALLY_PAID: "Partially Paid",
    InvoiceFilter.PAID: "Paid",
    InvoiceFilter.VOID: "Void",
    InvoiceFilter.RETAINER: "Retainer Invoices",
}

SORT_COLUMNS: dict[str, Any] = {
    "number": Invoice.number,
    "issue_date": Invoice.issue_date,
    "due_date": Invoice.due_date,
    "total": Invoice.total_minor,
    "balance": Invoice.balance_due_minor,
    "status": Invoice.status,
}

STATUS_LABELS = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.SENT: "Sent",
    InvoiceStatus.VIEWED: "Viewed",
    InvoiceStatus.PARTIALLY_PAID: "Partially Paid",
    InvoiceStatus.PAID: "Paid",
    InvoiceStatus.VOID: "Void",
}
OVERDUE_LABEL = "Overdue"


@dataclass(frozen=True)
class InvoiceListQuery:
    filter: InvoiceFilter = InvoiceFilter.ALL
    search: str = ""
    sort: str = "issue_date"
    descending: bool = True
    page: int = 1
    page_size: int = 25


@dataclass(frozen=True)
class InvoiceRow:
    public_id: str
    number: str
    is_retainer: bool
    issue_date: date
    due_date: date
    status: str
    status_label: str  # Overdue is derived from the due date
    total: Money
    balance_due: Money
    processing: Money | None = None  # a payment towards it that the gateway has not answered yet
    confirming: bool = False  # that payment's answer is still being confirmed (not a processing debit)

    @property
    def is_payable(self) -> bool:
        waiting = self.processing.minor if self.processing else 0
        return self.status in PAYABLE_STATUSES and self.balance_due.minor > waiting


@dataclass(frozen=True)
class InvoicePage:
    rows: tuple[InvoiceRow, ...]
    total_count: int
    query: InvoiceListQuery

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_count // self.query.page_size))


def is_overdue(status: str, due_date: date, today: date) -> bool:
    return status in PAYABLE_STATUSES and due_date < today


def status_label(status: str, due_date: date, today: date) -> str:
    return OVERDUE_LABEL if is_overdue(status, due_date, today) else STATUS_LABELS[InvoiceStatus(status)]


def normalized(query: InvoiceListQuery) -> InvoiceListQuery:
    """The query with out-of-range values brought back in range (they come from URLs)."""
    return InvoiceListQuery(
        filter=query.filter,
        search=query.search.strip()[:40],
        sort=query.sort if query.sort in SORT_COLUMNS else "issue_date",
        descending=query.descending,
        page=page_number(query.page),
        page_size=min(max(1, query.page_size), MAX_PAGE_SIZE),
    )


def _conditions(
    principal: Principal, query: InvoiceListQuery, today: date, dialect: str
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        Invoice.client_id == principal.client_id,
        Invoice.status != InvoiceStatus.DRAFT,
    ]
    invoices_only = Invoice.kind == InvoiceKind.INVOICE
    match query.filter:
        case InvoiceFilter.UNPAID:
            conditions += [invoices_only, Invoice.status.in_(PAYABLE_STATUSES)]
        case InvoiceFilter.OVERDUE:
            conditions += [invoices_only, Invoice.status.in_(PAYABLE_STATUSES), Invoice.due_date < today]
        case InvoiceFilter.PARTIALLY_PAID:
            conditions += [invoices_only, Invoice.status == InvoiceStatus.PARTIALLY_PAID]
        case InvoiceFilter.PAID:
            conditions += [invoices_only, Invoice.status == InvoiceStatus.PAID]
        case InvoiceFilter.VOID:
            conditions += [invoices_only, Invoice.status == InvoiceStatus.VOID]
        case InvoiceFilter.RETAINER:
            conditions.append(Invoice.kind == InvoiceKind.RETAINER)
    if query.search:
        escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        # SQLite's LIKE ignores ASCII case already and, unlike lower(), lets the number index cover it.
        matches = (
            Invoice.number.like(pattern, escape="\\")
            if dialect == "sqlite"
            else Invoice.number.ilike(pattern, escape="\\")
        )
        conditions.append(matches)
    return conditions


def list_invoices(db: Database, principal: Principal, query: InvoiceListQuery, *, today: date) -> InvoicePage:
    """One page of the signed-in client's issued invoices and retainer invoices; drafts never show."""
    query = normalized(query)
    where = and_(*_conditions(principal, query, today, db.engine.dialect.name))
    column = SORT_COLUMNS[query.sort]
    order = [column.desc(), Invoice.id.desc()] if query.descending else [column.asc(), Invoice.id.asc()]
    with db.reading() as session:
        total: int | None = None
        if query.search:
            # A search reads the covering number index once; a few matches are then counted and paged
            # by id, instead of a second pass over every number of the client.
            found = session.scalars(select(Invoice.id).where(where).limit(SEARCH_ID_LIMIT + 1)).all()
            if len(found) <= SEARCH_ID_LIMIT:
                total, where = len(found), Invoice.id.in_(found)
        if total is None:
            total = session.scalar(select(func.count()).select_from(Invoice).where(where)) or 0
        rows = session.execute(
            select(
                Invoice.id,
                Invoice.public_id,
                Invoice.number,
                Invoice.kind,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.status,
                Invoice.currency,
                Invoice.total_minor,
                Invoice.balance_due_minor,
            )
            .where(where)
            .order_by(*order)
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
        # Which of the page's unpaid invoices a payment is on its way for: one more query, only then.
        unpaid = any(row.status in PAYABLE_STATUSES and row.balance_due_minor > 0 for row in rows)
        waiting = in_flight(session, principal.client_id) if unpaid else {}
        confirming = being_confirmed(session, principal.client_id) if waiting else {}
    return InvoicePage(
        rows=tuple(
            InvoiceRow(
                public_id=row.public_id,
                number=row.number,
                is_retainer=row.kind == InvoiceKind.RETAINER,
                issue_date=row.issue_date,
                due_date=row.due_date,
                status=row.status,
                status_label=status_label(row.status, row.due_date, today),
                total=Money(row.total_minor, row.currency),
                balance_due=Money(row.balance_due_minor, row.currency),
                processing=Money(waiting[row.id], row.currency) if row.id in waiting else None,
                confirming=row.id in confirming,
            )
            for row in rows
        ),
        total_count=int(total),
        query=query,
    )
