"""The business's list of invoices and retainer invoices, drafts included: filtered, searched, counted
and paged in SQL, for the back office."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select

from models import Client, Invoice, InvoiceKind, InvoiceStatus
from services.database import Database
from services.invoice_list import OVERDUE_LABEL, STATUS_LABELS, status_label
from services.invoices import PAYABLE_STATUSES
from services.money import Money
from services.paging import page_number

MAX_PAGE_SIZE = 100
MAX_SEARCH_LENGTH = 100
ALL = ""
OVERDUE = "overdue"
STATUS_FILTERS: dict[str, str] = {
    ALL: "All statuses",
    **{str(status): label for status, label in STATUS_LABELS.items()},
    OVERDUE: OVERDUE_LABEL,
}
KIND_FILTERS: dict[str, str] = {
    ALL: "Invoices and retainers",
    InvoiceKind.INVOICE: "Invoices",
    InvoiceKind.RETAINER: "Retainer invoices",
}


@dataclass(frozen=True)
class StaffInvoiceQuery:
    status: str = ALL  # a key of STATUS_FILTERS
    kind: str = ALL  # a key of KIND_FILTERS
    search: str = ""  # part of the number or of the client's name
    page: int = 1
    page_size: int = 25


@dataclass(frozen=True)
class StaffInvoiceRow:
    public_id: str
    number: str
    is_retainer: bool
    client_name: str
    issue_date: date
    due_date: date
    status: str
    status_label: str  # Overdue is derived from the due date
    total: Money
    balance_due: Money


@dataclass(frozen=True)
class StaffInvoicePage:
    rows: tuple[StaffInvoiceRow, ...]
    total_count: int
    query: StaffInvoiceQuery


def normalized(query: StaffInvoiceQuery) -> StaffInvoiceQuery:
    """The query with unknown or out-of-range values (they come from URLs) brought back to defaults."""
    return replace(
        query,
        status=query.status if query.status in STATUS_FILTERS else ALL,
        kind=query.kind if query.kind in KIND_FILTERS else ALL,
        search=query.search.strip()[:MAX_SEARCH_LENGTH],
        page=page_number(query.page),
        page_size=min(max(1, query.page_size), MAX_PAGE_SIZE),
    )


def list_business_invoices(
    db: Database, organization_id: int, query: StaffInvoiceQuery, *, today: date
) -> StaffInvoicePage:
    """One page of the business's invoices, newest issue date first."""
    query = normalized(query)
    where = and_(*_conditions(organization_id, query, today))
    with db.reading() as session:
        total = session.scalar(
            select(func.count())
            .select_from(Invoice)
            .join(Client, Client.id == Invoice.client_id)
            .where(where)
        )
        rows = session.execute(
            select(
                Invoice.public_id,
                Invoice.number,
                Invoice.kind,
                Invoice.issue_date,
                Invoice.due_date,
                Invoice.status,
                Invoice.currency,
                Invoice.total_minor,
                Invoice.balance_due_minor,
                Client.display_name,
            )
            .join(Client, Client.id == Invoice.client_id)
            .where(where)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
    return StaffInvoicePage(
        tuple(
            StaffInvoiceRow(
                public_id=row.public_id,
                number=row.number,
                is_retainer=row.kind == InvoiceKind.RETAINER,
                client_name=row.display_name,
                issue_date=row.issue_date,
                due_date=row.due_date,
                status=row.status,
                status_label=status_label(row.status, row.due_date, today),
                total=Money(row.total_minor, row.currency),
                balance_due=Money(row.balance_due_minor, row.currency),
            )
            for row in rows
        ),
        int(total or 0),
        query,
    )


def _conditions(organization_id: int, query: StaffInvoiceQuery, today: date) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Invoice.organization_id == organization_id]
    if query.status == OVERDUE:
        conditions += [Invoice.status.in_(PAYABLE_STATUSES), Invoice.due_date < today]
    elif query.status in (InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.PARTIALLY_PAID):
        # Overdue is shown instead of these once the due date has passed, so they filter the same way.
        conditions += [Invoice.status == query.status, Invoice.due_date >= today]
    elif query.status:
        conditions.append(Invoice.status == query.status)
    if query.kind:
        conditions.append(Invoice.kind == query.kind)
    if query.search:
        words = query.search.lower()
        conditions.append(
            func.lower(Invoice.number).contains(words, autoescape=True)
            | func.lower(Client.display_name).contains(words, autoescape=True)
            | func.lower(Client.company_name).contains(words, autoescape=True)
        )
    return conditions


def as_params(query: StaffInvoiceQuery) -> dict[str, Any]:
    """The query as URL parameters, defaults left out."""
    params = {"status": query.status, "kind": query.kind, "q": query.search}
    if query.page != 1:
        params["page"] = str(query.page)
    return {key: value for key, value in params.items() if value}
