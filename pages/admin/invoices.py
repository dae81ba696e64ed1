"""Invoices (/admin/invoices): every invoice and retainer invoice of the business, drafts included,
filtered by status and kind, searched by number or client and paged on the server; the state lives
in the URL."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

# Importing registers the invoice page and the draft editor (app.py imports this module only).
import pages.admin.invoice
import pages.admin.invoice_editor  # noqa: F401
from components.admin_frame import admin_frame
from components.branding import business_branding
from components.language import translated_columns
from components.offload import io_bound
from components.status import STATUS_COLORS
from components.tables import PHONE_HIDDEN, compact_on_phone, requested_page, server_pagination
from components.url_params import UrlParams
from services import portal
from services.admin_invoice_list import (
    ALL,
    KIND_FILTERS,
    MAX_SEARCH_LENGTH,
    STATUS_FILTERS,
    StaffInvoicePage,
    StaffInvoiceQuery,
    StaffInvoiceRow,
    as_params,
    list_business_invoices,
    normalized,
)
from services.dates import format_day
from services.i18n import N_, _, ngettext
from services.money import format_money
from services.staff_auth import StaffPrincipal

COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "align": "left"},
    {"name": "client", "label": N_("Client"), "field": "client", "align": "left", **PHONE_HIDDEN},
    {"name": "issue_date", "label": N_("Date"), "field": "issue_date", "align": "left", **PHONE_HIDDEN},
    {"name": "due_date", "label": N_("Due Date"), "field": "due_date", "align": "left", **PHONE_HIDDEN},
    {"name": "total", "label": N_("Total"), "field": "total", "align": "right", **PHONE_HIDDEN},
    {"name": "balance", "label": N_("Balance Due"), "field": "balance", "align": "right"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
]
NUMBER_CELL = """
<q-td :props="props">
  <a :href="'/admin/invoices/' + props.row.id"
     class="text-primary font-medium no-underline">{{ props.value }}</a>
  <q-badge v-if="props.row.retainer" outline color="grey-8" class="ms-2 gt-xs"
           :role="null">{{ props.row.retainer }}</q-badge>
  <div class="sm:hidden text-grey-8 text-xs">{{ props.row.client }}</div>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""


def query_from_params(url: UrlParams) -> StaffInvoiceQuery:
    """The list's state from the URL; anything unknown falls back to the default."""
    return StaffInvoiceQuery(
        status=url.choice("status", STATUS_FILTERS, ALL),
        kind=url.choice("kind", KIND_FILTERS, ALL),
        search=url.text("q", max_length=MAX_SEARCH_LENGTH),
        page=url.number("page", 1),
    )


@ui.page("/admin/invoices")
async def invoices_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    state = {"query": query_from_params(UrlParams(request.query_params))}

    async def load(query: StaffInvoiceQuery) -> StaffInvoicePage:
        return await io_bound(
            list_business_invoices, current.db, staff.organization_id, query, today=current.clock().date()
        )

    first = await load(state["query"])
    with admin_frame(_("Invoices"), branding=branding, staff=staff, active="/admin/invoices"):
        with ui.row().classes("w-full items-center gap-2 -mt-2"):
            ui.button(
                _("New invoice"), icon="add", on_click=lambda: ui.navigate.to("/admin/invoices/new")
            ).props("unelevated no-caps")
            ui.button(
                _("New retainer invoice"),
                icon="add",
                on_click=lambda: ui.navigate.to("/admin/invoices/new?kind=retainer"),
            ).props("outline no-caps")
        with ui.row().classes("w-full items-end gap-3"):
            status = (
                ui.select(STATUS_FILTERS, label=_("Status"), value=first.query.status)
                .props("outlined dense options-dense")
                .classes("w-full sm:w-48")
                .mark("status-filter")
            )
            kind = (
                ui.select(KIND_FILTERS, label=_("Kind"), value=first.query.kind)
                .props("outlined dense options-dense")
                .classes("w-full sm:w-56")
                .mark("kind-filter")
            )
            search = (
                ui.input(_("Search by number or client"), value=first.query.search)
                .props("outlined dense clearable debounce=400 type=search maxlength=100")
                .classes("w-full sm:w-72")
                .mark("invoice-search")
            )
            ui.space()
            count = ui.label().classes("text-sm text-grey-7").mark("invoice-count")
        none_match = _("No invoices match this filter.")
        table = (
            ui.table(
                columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=_pagination(first)
            )
            .classes("w-full")
            .props(f'flat bordered no-data-label="{none_match}"')
            .mark("invoice-table")
        )
        compact_on_phone(table)
        table.add_slot("body-cell-number", NUMBER_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)

    def show(page: StaffInvoicePage) -> None:
        state["query"] = page.query
        table.rows = [_row(row, branding.locale) for row in page.rows]
        table.pagination = _pagination(page)
        count.text = ngettext("{count} invoice", "{count} invoices", page.total_count).format(
            count=page.total_count
        )
        params = as_params(page.query)
        ui.navigate.history.replace("/admin/invoices" + (f"?{urlencode(params)}" if params else ""))

    async def reload(**changes: Any) -> None:
        # The wanted query is noted before the await, so a second change made meanwhile builds on it,
        # and a slower answer to an earlier query is dropped.
        wanted = normalized(StaffInvoiceQuery(**{**state["query"].__dict__, **changes}))
        state["query"] = wanted
        page = await load(wanted)
        if state["query"] == wanted:
            show(page)

    async def on_request(event: events.GenericEventArguments) -> None:
        wanted = requested_page(event.args, sorts=(), default_sort="")
        await reload(page=wanted["page"], page_size=wanted["page_size"])

    async def on_status(event: events.ValueChangeEventArguments) -> None:
        await reload(status=event.value or "", page=1)

    async def on_kind(event: events.ValueChangeEventArguments) -> None:
        await reload(kind=event.value or "", page=1)

    async def on_search(event: events.ValueChangeEventArguments) -> None:
        await reload(search=event.value or "", page=1)

    table.on("request", on_request)
    table.on("rowClick", lambda event: ui.navigate.to(f"/admin/invoices/{event.args[1]['id']}"))
    status.on_value_change(on_status)
    kind.on_value_change(on_kind)
    search.on_value_change(on_search)
    show(first)


def _pagination(page: StaffInvoicePage) -> dict[str, Any]:
    return server_pagination(
        page=page.query.page, page_size=page.query.page_size, sort="", descending=True, total=page.total_count
    )


def _row(row: StaffInvoiceRow, locale: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "number": row.number,
        "retainer": _("Retainer") if row.is_retainer else "",  # its badge's word
        "client": row.client_name,
        "issue_date": _day(row.issue_date, locale),
        "due_date": _day(row.due_date, locale),
        "total": format_money(row.total, locale),
        "balance": format_money(row.balance_due, locale),
        "status": row.status_label,
        "color": STATUS_COLORS.get(row.status_label, "grey-7"),
    }


def _day(value: date, locale: str) -> str:
    return format_day(value, locale)
