"""Quotes: the client's sent quotes, newest first, with their total, valid-until day and status; live
when the business sends one."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import ui

# Importing registers the quote's own page (app.py imports this module only).
import pages.quote  # noqa: F401
from components.branding import business_branding
from components.frame import frame
from components.language import translated_columns
from components.live import LiveTopics, customer_topic
from components.offload import io_bound
from components.status import status_color
from components.tables import accessible_headers, compact_on_phone
from services import portal
from services.dates import format_day
from services.i18n import N_, _
from services.i18n.terms import term
from services.money import format_money
from services.principal import Principal
from services.quote_answers import ClientQuoteRow, client_quotes

COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "align": "left"},
    {"name": "issue_date", "label": N_("Date"), "field": "issue_date", "align": "left",
     "classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"},
    {"name": "valid_until", "label": N_("Valid until"), "field": "valid_until", "align": "left"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
    {"name": "total", "label": N_("Total"), "field": "total", "align": "right"},
]  # fmt: skip
NUMBER_CELL = """
<q-td :props="props">
  <a :href="'/quotes/' + props.row.id" class="text-primary font-medium no-underline">{{ props.value }}</a>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""


@ui.page("/quotes")
async def quotes_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    topic = await customer_topic(current.db, principal)
    watch = LiveTopics(current.events, topic)  # before the first read
    branding = await business_branding(current.db)

    async def load() -> tuple[ClientQuoteRow, ...]:
        return await io_bound(client_quotes, current.db, principal, now=current.clock())

    rows = await load()
    with frame(_("Quotes"), branding=branding, principal=principal, active="/quotes"):
        ui.label(
            _("Quotes from {business}: open one to read it, download it, and accept or decline it.").format(
                business=branding.name
            )
        ).classes("text-sm text-grey-8 -mt-2")
        none_yet = _("No quotes yet.")
        table = (
            ui.table(columns=translated_columns(COLUMNS), rows=[], row_key="id")
            .classes("w-full")
            .props(f'flat bordered hide-bottom no-data-label="{none_yet}"')
            .mark("quote-table")
        )
        table.props["pagination"] = {"rowsPerPage": 0}  # every quote on one page: a client has few
        accessible_headers(compact_on_phone(table))
        table.add_slot("body-cell-number", NUMBER_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)

    def show(quotes: tuple[ClientQuoteRow, ...]) -> None:
        table.rows = [_row(row, branding.locale) for row in quotes]

    async def reload() -> None:
        show(await load())

    show(rows)
    table.on("rowClick", lambda event: ui.navigate.to(f"/quotes/{event.args[1]['id']}"))
    watch.follow(reload)


def _row(row: ClientQuoteRow, locale: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "number": row.number,
        "issue_date": format_day(row.issue_date, locale),
        "valid_until": format_day(row.valid_until, locale),
        "status": term(row.status_label),
        "color": status_color(row.status_label),
        "total": format_money(row.total, locale),
    }
