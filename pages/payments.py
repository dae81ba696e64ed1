"""Payments Made: every payment of the client, filtered by kind, sorted by date or amount and paged on the
server; the state lives in the URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

from components.branding import business_branding
from components.frame import frame
from components.language import translated_columns
from components.offload import io_bound
from components.tables import accessible_headers, compact_on_phone, requested_page, server_pagination
from components.url_params import UrlParams
from services import portal
from services.dates import format_day
from services.i18n import N_, _
from services.i18n.terms import term
from services.money import format_money
from services.payments_made import (
    FILTER_LABELS,
    PAGE_SIZES,
    SORT_COLUMNS,
    PaymentFilter,
    PaymentRow,
    PaymentsPage,
    PaymentsQuery,
    list_payments,
)
from services.principal import Principal

COLUMNS: list[dict[str, Any]] = [
    {"name": "date", "label": N_("Date"), "field": "date", "sortable": True, "align": "left"},
    {"name": "receipt", "label": N_("Receipt"), "field": "receipt", "align": "left"},
    {"name": "method", "label": N_("Method"), "field": "method", "align": "left",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},
    # A payment over many invoices wraps its list, so its status and amount stay on screen.
    {"name": "paid_for", "label": N_("Invoices"), "field": "paid_for", "align": "left",
     "classes": "max-md:hidden", "headerClasses": "max-md:hidden",
     "style": "white-space: normal; min-width: 12rem"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
    {"name": "amount", "label": N_("Amount"), "field": "amount", "sortable": True, "align": "right"},
]  # fmt: skip
STATUS_COLORS = {"Paid": "positive", "Processing": "blue-9", "Failed": "negative", "Refunded": "grey-7"}
TABLE_PROPS = "flat bordered"
NO_DATA = N_("No payments yet.")  # Quasar's no-data-label, translated where the table is made
RECEIPT_CELL = """
<q-td :props="props">
  <a :href="'/payments/' + props.row.id" class="text-primary font-medium no-underline">{{ props.value }}</a>
  <q-badge v-if="props.row.retainer" outline color="grey-8" class="ms-2 gt-xs"
           :role="null">{{ props.row.retainer_label }}</q-badge>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""


def query_from_params(url: UrlParams) -> PaymentsQuery:
    """The list's state from the URL; anything unknown falls back to the default."""
    return PaymentsQuery(
        PaymentFilter(url.choice("filter", list(PaymentFilter), PaymentFilter.ALL)),
        url.choice("sort", SORT_COLUMNS, "date"),
        url.flag("desc", default=True),
        url.number("page", 1),
        url.number("size", 25, highest=max(PAGE_SIZES)),
    )


def url_for(query: PaymentsQuery) -> str:
    params = {
        "filter": query.filter.value if query.filter != PaymentFilter.ALL else "",
        "sort": query.sort,
        "desc": "1" if query.descending else "0",
        "page": str(query.page),
        "size": str(query.page_size),
    }
    return "/payments?" + urlencode({key: value for key, value in params.items() if value})


@ui.page("/payments")
async def payments_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    branding = await business_branding(current.db)
    state = {"query": query_from_params(UrlParams(request.query_params))}

    async def load(query: PaymentsQuery) -> PaymentsPage:
        return await io_bound(list_payments, current.db, principal, query)

    first = await load(state["query"])
    with frame(_("Payments Made"), branding=branding, principal=principal, active="/payments"):
        with ui.row().classes("w-full items-end gap-3"):
            kind = (
                ui.select({key.value: label for key, label in FILTER_LABELS.items()}, label=_("Show"),
                          value=first.query.filter.value)
                .props("outlined dense options-dense")
                .classes("w-full sm:w-56")
                .mark("payments-filter")
            )  # fmt: skip
            ui.space()
            count = ui.label().classes("text-sm text-grey-7")
        table = (
            ui.table(
                columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=_pagination(first)
            )
            .classes("w-full")
            .props(TABLE_PROPS)
            .props(f'no-data-label="{_(NO_DATA)}"')
            .mark("payments-table")
        )
        table.props["rows-per-page-options"] = [10, 25, 50, 100]  # a list, not the text of one
        compact_on_phone(table)
        accessible_headers(table)
        table.add_slot("body-cell-receipt", RECEIPT_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)

    def show(page: PaymentsPage) -> None:
        state["query"] = page.query
        table.rows = [_row(row, branding.locale) for row in page.rows]
        table.pagination = _pagination(page)
        count.text = f"{page.total_count} payment" + ("" if page.total_count == 1 else "s")
        ui.navigate.history.replace(url_for(page.query))

    async def reload(**changes: Any) -> None:
        show(await load(PaymentsQuery(**{**state["query"].__dict__, **changes})))

    async def on_request(event: events.GenericEventArguments) -> None:
        await reload(**requested_page(event.args, sorts=SORT_COLUMNS, default_sort="date"))

    async def on_filter(event: events.ValueChangeEventArguments) -> None:
        await reload(filter=PaymentFilter(event.value), page=1)

    table.on("request", on_request)
    table.on("rowClick", lambda event: ui.navigate.to(f"/payments/{event.args[1]['id']}"))
    kind.on_value_change(on_filter)
    show(first)


def _pagination(page: PaymentsPage) -> dict[str, Any]:
    query = page.query
    return server_pagination(
        page=query.page,
        page_size=query.page_size,
        sort=query.sort,
        descending=query.descending,
        total=page.total_count,
    )


def _row(row: PaymentRow, locale: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "date": format_day(row.paid_on.date(), locale),
        "receipt": row.receipt_number or "—",
        "retainer": row.is_retainer,
        "retainer_label": _("Retainer"),
        "method": row.method,
        "paid_for": ", ".join(row.paid_for) or "—",
        "status": term(row.status_label),  # the English label is the colour's key
        "color": STATUS_COLORS.get(row.status_label, "grey-7"),
        "amount": format_money(row.amount, locale),
    }
