"""Quotes (/admin/quotes): every quote of the business, newest first, drafts included, filtered by
status, searched by number or client and paged on the server (the state in the URL); live when a
customer answers one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

# Importing registers the quote page and the editor (app.py imports this module only).
import pages.admin.quote  # noqa: F401
from components.admin_frame import admin_frame
from components.branding import business_branding
from components.language import translated_columns
from components.live import LiveTopics
from components.offload import io_bound
from components.status import status_color
from components.tables import PHONE_HIDDEN, compact_on_phone, requested_page, server_pagination
from components.url_params import UrlParams
from services import portal
from services.dates import format_day
from services.events import QUOTES_TOPIC
from services.i18n import N_, _, ngettext
from services.i18n.terms import term
from services.money import format_money
from services.quotes import PAGE_SIZE, QuotePage, QuoteRow, list_quotes
from services.staff_auth import StaffPrincipal

MAX_SEARCH_LENGTH = 100
# The status filter's choices (services.quotes.STATUS_FILTERS) with their labels (terms, shown with _()).
STATUS_LABELS = {
    "": N_("All"),
    "draft": N_("Draft"),
    "sent": N_("Sent"),
    "expired": N_("Expired"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
}
COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "align": "left"},
    {"name": "client", "label": N_("Client"), "field": "client", "align": "left", **PHONE_HIDDEN},
    {"name": "issue_date", "label": N_("Date"), "field": "issue_date", "align": "left", **PHONE_HIDDEN},
    {
        "name": "valid_until",
        "label": N_("Valid until"),
        "field": "valid_until",
        "align": "left",
        **PHONE_HIDDEN,
    },
    {"name": "total", "label": N_("Total"), "field": "total", "align": "right"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
]
NUMBER_CELL = """
<q-td :props="props">
  <a :href="'/admin/quotes/' + props.row.id"
     class="text-primary font-medium no-underline">{{ props.value }}</a>
  <div class="sm:hidden text-grey-8 text-xs">{{ props.row.client }}</div>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""


@ui.page("/admin/quotes")
async def quotes_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    url = UrlParams(request.query_params)
    state: dict[str, Any] = {
        "search": url.text("q", max_length=MAX_SEARCH_LENGTH),
        "status": url.choice("status", STATUS_LABELS, ""),
        "page": url.number("page", 1),
    }
    watch = LiveTopics(current.events, QUOTES_TOPIC)  # before the first read
    branding = await business_branding(current.db)

    async def load() -> QuotePage:
        return await io_bound(
            list_quotes,
            current.db,
            staff.organization_id,
            search=str(state["search"]),
            status=str(state["status"]),
            page=int(state["page"]),
            now=current.clock(),
        )

    first = await load()
    with admin_frame(_("Quotes"), branding=branding, staff=staff, active="/admin/quotes"):
        with ui.row().classes("w-full items-end gap-3 -mt-2"):
            ui.button(_("New quote"), icon="add", on_click=lambda: ui.navigate.to("/admin/quotes/new")).props(
                "unelevated no-caps"
            ).mark("new-quote")
            status = (
                ui.select(
                    {value: _(label) for value, label in STATUS_LABELS.items()},
                    label=_("Status"),
                    value=state["status"],
                )
                .props("outlined dense options-dense")
                .classes("w-full sm:w-48")
                .mark("quote-status-filter")
            )
            search = (
                ui.input(_("Search by number or client"), value=str(state["search"]))
                .props("outlined dense clearable debounce=400 type=search maxlength=100")
                .classes("w-full sm:w-72")
                .mark("quote-search")
            )
            ui.space()
            count = ui.label().classes("text-sm text-grey-7").mark("quote-count")
        none_yet = _("No quotes yet. Write one with New quote.")
        table = (
            ui.table(
                columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=_pagination(first)
            )
            .classes("w-full")
            .props(f'flat bordered no-data-label="{none_yet}"')
            .mark("quote-table")
        )
        table.props["rows-per-page-options"] = [PAGE_SIZE]  # pages of a fixed size (services.quotes)
        compact_on_phone(table)
        table.add_slot("body-cell-number", NUMBER_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)

    def show(page: QuotePage) -> None:
        state["page"] = page.page
        table.rows = [_row(row, branding.locale) for row in page.rows]
        table.pagination = _pagination(page)
        count.text = ngettext("{count} quote", "{count} quotes", page.total_count).format(
            count=page.total_count
        )
        chosen = (("status", state["status"]), ("q", state["search"]), ("page", page.page))
        params = {key: value for key, value in chosen if value not in ("", 1)}
        ui.navigate.history.replace("/admin/quotes" + (f"?{urlencode(params)}" if params else ""))

    async def reload() -> None:
        show(await load())

    async def on_request(event: events.GenericEventArguments) -> None:
        state["page"] = requested_page(event.args, sorts=(), default_sort="")["page"]
        await reload()

    async def on_status(event: events.ValueChangeEventArguments) -> None:
        state["status"], state["page"] = str(event.value or ""), 1
        await reload()

    async def on_search(event: events.ValueChangeEventArguments) -> None:
        state["search"], state["page"] = str(event.value or "")[:MAX_SEARCH_LENGTH], 1
        await reload()

    table.on("request", on_request)
    table.on("rowClick", lambda event: ui.navigate.to(f"/admin/quotes/{event.args[1]['id']}"))
    status.on_value_change(on_status)
    search.on_value_change(on_search)
    show(first)
    watch.follow(reload)


def _pagination(page: QuotePage) -> dict[str, Any]:
    return server_pagination(
        page=page.page, page_size=PAGE_SIZE, sort="", descending=True, total=page.total_count
    )


def _row(row: QuoteRow, locale: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "number": row.number,
        "client": row.client_name,
        "issue_date": format_day(row.issue_date, locale),
        "valid_until": format_day(row.valid_until, locale),
        "total": format_money(row.total, locale),
        "status": term(row.status_label),
        "color": status_color(row.status_label),
    }
