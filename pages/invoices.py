"""Invoices: the client's issued invoices and retainer invoices, filtered, searched, sorted and paged
on the server; the filter, search, sort and page live in the URL."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

from components.branding import business_branding
from components.frame import frame
from components.language import translated_columns
from components.live import LiveTopics, customer_topic
from components.offload import io_bound
from components.status import STATUS_COLORS
from components.tables import accessible_headers, compact_on_phone, requested_page, server_pagination
from components.url_params import UrlParams
from services import portal
from services.dates import format_day
from services.i18n import N_, _
from services.i18n.terms import term
from services.invoice_list import (
    FILTER_LABELS,
    SORT_COLUMNS,
    InvoiceFilter,
    InvoiceListQuery,
    InvoicePage,
    InvoiceRow,
    list_invoices,
)
from services.money import format_money
from services.principal import Principal

COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "sortable": True, "align": "left"},
    {"name": "issue_date", "label": N_("Date"), "field": "issue_date", "sortable": True, "align": "left",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},
    {"name": "due_date", "label": N_("Due Date"), "field": "due_date", "sortable": True, "align": "left",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},
    {"name": "status", "label": N_("Status"), "field": "status", "sortable": True, "align": "left"},
    {"name": "total", "label": N_("Total"), "field": "total", "sortable": True, "align": "right",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},
    {"name": "balance", "label": N_("Balance Due"), "field": "balance", "sortable": True, "align": "right"},
    {"name": "pay", "label": N_("Actions"), "srOnly": True, "field": "payable", "align": "right",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},  # a phone's Pay is in BALANCE_CELL
]  # fmt: skip

TABLE_PROPS = "flat bordered"
NO_DATA = N_("No invoices match this filter.")  # Quasar's no-data-label, translated where the table is made
NUMBER_CELL = """
<q-td :props="props">
  <a :href="'/invoices/' + props.row.id" class="text-primary font-medium no-underline">{{ props.value }}</a>
  <q-badge v-if="props.row.retainer" outline color="grey-8" class="ms-2 gt-xs"
           :role="null">{{ props.row.retainer_label }}</q-badge>
</q-td>
"""
PAY_CELL = """
<q-td :props="props">
  <q-btn v-if="props.row.payable" :href="'/pay?invoice=' + props.row.id" @click.stop
         :label="props.row.pay_label" :aria-label="props.row.pay_label + ' ' + props.row.number"
         color="primary" size="sm" unelevated no-caps />
</q-td>
"""
# On a phone the Pay column is hidden (four columns would not fit 390 px): the balance carries the button
# below it instead, a short "Pay" that keeps the column as narrow as its amounts.
BALANCE_CELL = """
<q-td :props="props">
  <div class="tabular-nums">{{ props.value }}</div>
  <q-btn v-if="props.row.payable" :href="'/pay?invoice=' + props.row.id" @click.stop
         :label="props.row.phone_pay_label" :aria-label="props.row.phone_pay_label + ' ' + props.row.number"
         class="sm:hidden q-mt-xs q-px-sm" color="primary" unelevated no-caps
         data-testid="phone-pay" />
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm max-sm:text-xs px-2" rounded :role="null">
    {{ props.value }}
  </q-badge>
  <div v-if="props.row.processing" class="text-xs text-blue-9 q-mt-xs">{{ props.row.processing }}</div>
</q-td>
"""


def query_from_params(url: UrlParams) -> InvoiceListQuery:
    """The list's state from the URL; anything unknown falls back to the default."""
    return InvoiceListQuery(
        filter=InvoiceFilter(url.choice("filter", list(InvoiceFilter), InvoiceFilter.ALL)),
        search=url.text("q", max_length=40),
        sort=url.choice("sort", SORT_COLUMNS, "issue_date"),
        descending=url.flag("desc", default=True),
        page=url.number("page", 1),
    )


def url_for(query: InvoiceListQuery) -> str:
    params = {"filter": query.filter.value, "q": query.search, "sort": query.sort,
              "desc": "1" if query.descending else "0", "page": str(query.page)}  # fmt: skip
    return "/invoices?" + urlencode({key: value for key, value in params.items() if value})


@ui.page("/invoices")
async def invoices_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    branding = await business_branding(current.db)
    state = {"query": query_from_params(UrlParams(request.query_params))}

    async def load(query: InvoiceListQuery) -> InvoicePage:
        return await io_bound(list_invoices, current.db, principal, query, today=current.clock().date())

    topic = await customer_topic(current.db, principal)
    watch = LiveTopics(current.events, topic)  # before the first read, so no change is missed
    first = await load(state["query"])
    with frame(_("Invoices"), branding=branding, principal=principal, active="/invoices"):
        with ui.row().classes("w-full items-end gap-3"):
            kind = (
                ui.select(
                    {key.value: label for key, label in FILTER_LABELS.items()},
                    label=_("Show"),
                    value=first.query.filter.value,
                )
                .props("outlined dense options-dense")
                .classes("w-full sm:w-56")
            )
            search = (
                ui.input(_("Search by number"), value=first.query.search)
                .props("outlined dense clearable debounce=400 type=search maxlength=40")
                .classes("w-full sm:w-64")
            )
            ui.space()
            count = ui.label().classes("text-sm text-grey-7")
        table = (
            ui.table(
                columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=_pagination(first)
            )
            .classes("w-full")
            .props(TABLE_PROPS)
            .props(f'no-data-label="{_(NO_DATA)}"')
        )
        table.props["rows-per-page-options"] = [10, 25, 50, 100]  # a list, not the text of one
        compact_on_phone(table)
        accessible_headers(table)
        table.add_slot("body-cell-number", NUMBER_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)
        table.add_slot("body-cell-pay", PAY_CELL)
        table.add_slot("body-cell-balance", BALANCE_CELL)

    def show(page: InvoicePage) -> None:
        state["query"] = page.query
        table.rows = [_row(row, branding.locale) for row in page.rows]
        table.pagination = _pagination(page)
        noun = "invoice" if page.total_count == 1 else "invoices"
        count.text = f"{page.total_count} {noun}"
        ui.navigate.history.replace(url_for(page.query))

    async def reload(**changes: Any) -> None:
        query = state["query"]
        show(await load(InvoiceListQuery(**{**query.__dict__, **changes})))

    async def on_request(event: events.GenericEventArguments) -> None:
        await reload(**requested_page(event.args, sorts=SORT_COLUMNS, default_sort="issue_date"))

    async def on_filter(event: events.ValueChangeEventArguments) -> None:
        await reload(filter=InvoiceFilter(event.value), page=1)

    async def on_search(event: events.ValueChangeEventArguments) -> None:
        await reload(search=event.value or "", page=1)

    table.on("request", on_request)
    table.on("rowClick", lambda event: ui.navigate.to(f"/invoices/{event.args[1]['id']}"))
    kind.on_value_change(on_filter)
    search.on_value_change(on_search)
    show(first)
    watch.follow(reload)  # a sent, paid or voided invoice shows without a reload


def _pagination(page: InvoicePage) -> dict[str, Any]:
    query = page.query
    return server_pagination(
        page=query.page,
        page_size=query.page_size,
        sort=query.sort,
        descending=query.descending,
        total=page.total_count,
    )


def _row(row: Any, locale: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "number": row.number,
        "retainer": row.is_retainer,
        "retainer_label": _("Retainer"),
        "pay_label": _("Pay Now"),
        "phone_pay_label": _("Pay"),
        "issue_date": _day(row.issue_date, locale),
        "due_date": _day(row.due_date, locale),
        "status": term(row.status_label),  # the English label is the colour's key
        "color": STATUS_COLORS.get(row.status_label, "grey-7"),
        "total": format_money(row.total, locale),
        "balance": format_money(row.balance_due, locale),
        "payable": row.is_payable,
        "processing": _in_flight(row, locale),
    }


def _in_flight(row: InvoiceRow, locale: str) -> str:
    if row.processing is None:
        return ""
    amount = format_money(row.processing, locale)
    return (
        _("{amount} being confirmed").format(amount=amount)
        if row.confirming
        else _("{amount} processing").format(amount=amount)
    )


def _day(value: date, locale: str) -> str:
    return format_day(value, locale)
