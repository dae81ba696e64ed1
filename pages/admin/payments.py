"""Payments (/admin/payments): every payment, newest first; record an offline one; refund credit."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import events, ui

from components.admin_frame import admin_frame
from components.branding import business_branding
from components.dialog_host import DialogHost
from components.language import translated_columns
from components.offload import io_bound
from components.payment_dialogs import RecordPaymentDialog, RefundCreditDialog
from components.tables import PHONE_HIDDEN, compact_on_phone, requested_page, server_pagination
from components.url_params import UrlParams
from services import portal
from services.admin_payments import PaymentRow, PaymentsList, client_choices, list_all_payments
from services.dates import format_day
from services.i18n import N_, _
from services.money import format_money
from services.staff_auth import StaffPrincipal

FIRST_PAGE = server_pagination(page=1, page_size=25, sort="date", descending=True, total=0)
COLUMNS: list[dict[str, Any]] = [
    {"name": "date", "label": N_("Date"), "field": "date", "align": "left"},
    {"name": "receipt", "label": N_("Number"), "field": "receipt", "align": "left", **PHONE_HIDDEN},
    {"name": "client", "label": N_("Client"), "field": "client", "align": "left"},
    {"name": "method", "label": N_("Method"), "field": "method", "align": "left", **PHONE_HIDDEN},
    {"name": "reference", "label": N_("Reference"), "field": "reference", "align": "left",
     "classes": "max-md:hidden", "headerClasses": "max-md:hidden"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left", **PHONE_HIDDEN},
    {"name": "amount", "label": N_("Amount"), "field": "amount", "align": "right"},
]  # fmt: skip
STATUS_LABELS = {
    "succeeded": N_("Paid"),
    "processing": N_("Processing"),
    "pending": N_("Pending"),
    "failed": N_("Failed"),
}
STATUS_COLORS = {"Paid": "positive", "Processing": "blue-9", "Pending": "grey-7", "Failed": "negative"}
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
  <q-badge v-if="props.row.retainer" outline color="grey-8" class="ms-2 gt-xs"
           :role="null">{{ props.row.retainer }}</q-badge>
</q-td>
"""
ALL_CLIENTS = ""


@ui.page("/admin/payments")
async def payments_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    clients = await io_bound(client_choices, current.db, staff.organization_id)
    state: dict[str, Any] = {"client": ALL_CLIENTS, "page": 1, "size": 25}

    async def load() -> PaymentsList:
        return await io_bound(
            list_all_payments,
            current.db,
            staff.organization_id,
            client_public_id=state["client"] or None,
            page=state["page"],
            page_size=state["size"],
        )

    with admin_frame(_("Payments"), branding=branding, staff=staff, active="/admin/payments"):
        host = DialogHost()
        with ui.row().classes("w-full items-end gap-3"):
            client_filter = (
                ui.select({ALL_CLIENTS: _("All clients"), **{c.public_id: c.name for c in clients}},
                          label=_("Client"), value=ALL_CLIENTS)
                .props("outlined dense options-dense")
                .classes("w-full sm:w-64")
                .mark("payments-client-filter")
            )  # fmt: skip
            count = ui.label().classes("text-sm text-grey-7")
            ui.space()
            with ui.row().classes("gap-2"):
                ui.button(
                    _("Refund credit"),
                    icon="undo",
                    on_click=lambda: host.show(
                        lambda: RefundCreditDialog(current, staff, clients, branding.locale, reload)
                    ),
                ).props("outline no-caps").mark("refund-credit")
                ui.button(
                    _("Record payment"),
                    icon="add",
                    on_click=lambda: host.show(
                        lambda: RecordPaymentDialog(current, staff, clients, branding.locale, reload)
                    ),
                ).props("unelevated no-caps").mark("record-payment")
        none_yet = _("No payments yet.")
        table = (
            ui.table(columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=FIRST_PAGE)
            .classes("w-full")
            .props(f'flat bordered no-data-label="{none_yet}"')
            .mark("admin-payments-table")
        )
        table.props["rows-per-page-options"] = [10, 25, 50, 100]
        compact_on_phone(table)
        table.add_slot("body-cell-status", STATUS_CELL)

    def show(found: PaymentsList) -> None:
        table.rows = [_row(row, branding.locale) for row in found.rows]
        table.pagination = server_pagination(
            page=found.page, page_size=found.page_size, sort="date", descending=True, total=found.total_count
        )
        count.text = f"{found.total_count} payment" + ("" if found.total_count == 1 else "s")

    async def reload() -> None:
        show(await load())

    async def on_request(event: events.GenericEventArguments) -> None:
        wanted = requested_page(event.args, sorts=(), default_sort="")
        state["page"], state["size"] = wanted["page"], wanted["page_size"]
        await reload()

    async def on_client(event: events.ValueChangeEventArguments) -> None:
        state["client"], state["page"] = event.value or ALL_CLIENTS, 1
        await reload()

    table.on("request", on_request)
    client_filter.on_value_change(on_client)
    show(await load())
    if UrlParams(request.query_params).given("record"):  # the dashboard's "Record payment" opens the form
        host.show(lambda: RecordPaymentDialog(current, staff, clients, branding.locale, reload))


def _row(row: PaymentRow, locale: str) -> dict[str, Any]:
    status = STATUS_LABELS.get(row.status, row.status.title())
    return {
        "id": row.public_id,
        "date": format_day(row.on, locale),
        "receipt": row.receipt_number or "—",
        "client": row.client_name,
        "method": row.method,
        "reference": row.reference or "—",
        "status": _(status),  # the English label is the colour's key
        "color": STATUS_COLORS.get(status, "grey-7"),
        "retainer": _("Retainer") if row.is_retainer else "",  # its badge's word
        "amount": format_money(row.amount, locale),
    }
