"""Clients (/admin/clients): the list with search and balances, paged on the server."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from nicegui import events, ui

import pages.admin.client  # noqa: F401 - registers /admin/clients/new and /admin/clients/{public_id}
from components.admin_frame import admin_frame
from components.branding import business_branding
from components.language import translated_columns
from components.offload import io_bound
from components.tables import PHONE_HIDDEN, compact_on_phone
from components.url_params import UrlParams
from services import portal
from services.clients import ClientPage, ClientView, list_clients
from services.i18n import N_, _
from services.money import format_money
from services.staff_auth import StaffPrincipal

PAGE_SIZE = 25
COLUMNS: list[dict[str, Any]] = [
    {"name": "name", "label": N_("Name"), "field": "name", "align": "left"},
    {"name": "company", "label": N_("Company"), "field": "company", "align": "left", **PHONE_HIDDEN},
    {"name": "currency", "label": N_("Currency"), "field": "currency", "align": "left", **PHONE_HIDDEN},
    {"name": "outstanding", "label": N_("Outstanding"), "field": "outstanding", "align": "right"},
    {"name": "credits", "label": N_("Credits"), "field": "credits", "align": "right", **PHONE_HIDDEN},
    {"name": "retainer", "label": N_("Retainer"), "field": "retainer", "align": "right", **PHONE_HIDDEN},
]
NAME_CELL = """
<q-td :props="props">
  <a :href="'/admin/clients/' + props.row.id"
     class="text-primary font-medium no-underline">{{ props.value }}</a>
  <div v-if="props.row.company" class="text-xs text-grey-7 lt-sm">{{ props.row.company }}</div>
</q-td>
"""


@ui.page("/admin/clients")
async def clients_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    # The cursor of each page seen so far: Previous steps back through them.
    state: dict[str, Any] = {
        "search": UrlParams(request.query_params).text("q", max_length=100),
        "cursors": [None],
        "next": None,
    }

    async def load() -> ClientPage | None:
        """The page asked for; None when a newer request (typing goes on) made this one stale."""
        state["asked"] = asked = state.get("asked", 0) + 1
        page = await io_bound(
            list_clients,
            current.db,
            staff.organization_id,
            after_id=state["cursors"][-1],
            limit=PAGE_SIZE,
            search=state["search"],
        )
        return page if asked == state["asked"] else None

    with admin_frame(_("Clients"), branding=branding, staff=staff, active="/admin/clients"):
        with ui.row().classes("w-full items-end gap-3"):
            search = (
                ui.input(_("Search by name, company or e-mail"), value=state["search"])
                .props("outlined dense clearable debounce=400 type=search maxlength=100")
                .classes("w-full sm:w-80")
                .mark("clients-search")
            )
            ui.space()
            ui.button(_("New client"), icon="add").props("unelevated no-caps href=/admin/clients/new").mark(
                "clients-new"
            )
        table = ui.table(columns=translated_columns(COLUMNS), rows=[], row_key="id").classes("w-full")
        no_clients = _("No clients match this search.")
        table.props(f'flat bordered hide-pagination no-data-label="{no_clients}"')
        table.props[":pagination"] = "{rowsPerPage: 0}"
        compact_on_phone(table)
        table.add_slot("body-cell-name", NAME_CELL)
        with ui.row().classes("w-full items-center justify-end gap-2"):
            previous = (
                ui.button(_("Previous"), icon="chevron_left").props("flat no-caps").mark("clients-previous")
            )
            following = (
                ui.button(_("Next")).props("flat no-caps icon-right=chevron_right").mark("clients-next")
            )

    def show(page: ClientPage | None) -> None:
        if page is None:
            return
        state["next"] = page.next_after_id
        table.rows = [_row(client, branding.locale) for client in page.clients]
        previous.set_enabled(len(state["cursors"]) > 1)
        following.set_enabled(page.next_after_id is not None)

    async def on_search(event: events.ValueChangeEventArguments) -> None:
        state["search"] = str(event.value or "")
        state["cursors"] = [None]
        show(await load())
        query = urlencode({"q": state["search"]}) if state["search"] else ""
        ui.navigate.history.replace(f"/admin/clients?{query}" if query else "/admin/clients")

    async def go_next() -> None:
        if state["next"] is not None:
            state["cursors"].append(state["next"])
            show(await load())

    async def go_previous() -> None:
        if len(state["cursors"]) > 1:
            state["cursors"].pop()
            show(await load())

    table.on("rowClick", lambda event: ui.navigate.to(f"/admin/clients/{event.args[1]['id']}"))
    search.on_value_change(on_search)
    following.on_click(go_next)
    previous.on_click(go_previous)
    show(await load())


def _row(client: ClientView, locale: str) -> dict[str, Any]:
    return {
        "id": client.public_id,
        "name": client.display_name,
        "company": client.company_name,
        "currency": client.currency,
        "outstanding": format_money(client.balances.outstanding, locale),
        "credits": format_money(client.balances.credits, locale),
        "retainer": format_money(client.balances.retainer, locale),
    }
