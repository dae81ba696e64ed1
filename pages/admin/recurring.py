"""Recurring invoices (/admin/recurring): the business's profiles with their client, amount, frequency,
next run date and status; pause, resume and end each one, or open it to edit."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from nicegui import events, ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.dialog_host import DialogHost
from components.headings import dialog_title
from components.language import translated_columns
from components.offload import io_bound
from components.tables import PHONE_HIDDEN, accessible_headers, compact_on_phone
from components.url_params import UrlParams
from models import RecurringStatus
from services import portal
from services.dates import format_day
from services.errors import DomainError, human_message
from services.i18n import N_, _, ngettext
from services.money import format_money
from services.recurring_invoices import (
    ProfileRow,
    end_profile,
    frequency_text,
    list_profiles,
    pause_profile,
    resume_profile,
    status_name,
)
from services.staff_auth import StaffPrincipal

PATH = "/admin/recurring"
COLUMNS: list[dict[str, Any]] = [
    {"name": "client", "label": N_("Client"), "field": "client", "align": "left"},
    {"name": "amount", "label": N_("Amount"), "field": "amount", "align": "right", **PHONE_HIDDEN},
    {"name": "frequency", "label": N_("Frequency"), "field": "frequency", "align": "left", **PHONE_HIDDEN},
    {"name": "next_run", "label": N_("Next invoice"), "field": "next_run", "align": "left"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left", **PHONE_HIDDEN},
    {"name": "actions", "label": N_("Actions"), "srOnly": True, "field": "id", "align": "right"},
]  # fmt: skip
END_WARNING = N_("It makes no more invoices and cannot be resumed. The invoices it made stay as they are.")
STATUS_COLORS = {
    RecurringStatus.ACTIVE: "green-9",
    RecurringStatus.PAUSED: "orange-10",
    RecurringStatus.ENDED: "grey-8",
}
CLIENT_CELL = """
<q-td :props="props" class="whitespace-normal">
  <a :href="props.row.href" class="text-primary">{{ props.value }}</a>
  <div class="sm:hidden text-xs text-grey-8">
    {{ props.row.amount }} · {{ props.row.frequency }} · {{ props.row.status }}
  </div>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""
ACTIONS_CELL = """
<q-td :props="props">
  <div class="flex flex-nowrap justify-end max-sm:flex-col max-sm:items-end">
    <q-btn v-if="props.row.pause" flat dense no-caps color="primary" :label="props.row.pause"
           :aria-label="props.row.pause + ': ' + props.row.client"
           @click="() => $parent.$emit('pause', props.row)" />
    <q-btn v-if="props.row.resume" flat dense no-caps color="primary" :label="props.row.resume"
           :aria-label="props.row.resume + ': ' + props.row.client"
           @click="() => $parent.$emit('resume', props.row)" />
    <q-btn v-if="props.row.end" flat dense no-caps color="negative" :label="props.row.end"
           :aria-label="props.row.end + ': ' + props.row.client"
           @click="() => $parent.$emit('end', props.row)" />
  </div>
</q-td>
"""


@ui.page(PATH)
async def recurring_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)

    with admin_frame(_("Recurring invoices"), branding=branding, staff=staff, active=PATH):
        ui.label(
            _(
                "Each profile makes its invoice on its day (in the business's time zone), numbered like the "
                "others, and sends it to the customer or keeps it as a draft."
            )
        ).classes("text-sm text-grey-8")
        host = DialogHost()
        notice = ui.column().classes("w-full gap-2")
        with ui.row().classes("w-full items-center gap-3"):
            count = ui.label().classes("text-sm text-grey-7").mark("profile-count")
            ui.space()
            ui.button(
                _("New recurring profile"), icon="add", on_click=lambda: ui.navigate.to(f"{PATH}/new")
            ).props("unelevated no-caps").mark("new-profile")
        none_yet = _("No recurring profiles yet.")
        table = (
            ui.table(columns=translated_columns(COLUMNS), rows=[], row_key="id")
            .classes("w-full")
            .props(f'flat bordered hide-pagination no-data-label="{none_yet}"')
            .mark("profiles-table")
        )
        table.pagination = {"rowsPerPage": 0}
        compact_on_phone(table)
        accessible_headers(table)
        table.add_slot("body-cell-client", CLIENT_CELL)
        table.add_slot("body-cell-status", STATUS_CELL)
        table.add_slot("body-cell-actions", ACTIONS_CELL)

    saved = UrlParams(request.query_params).text("saved", max_length=40)

    async def reload() -> None:
        rows = await io_bound(list_profiles, current.db, staff.organization_id)
        if (
            saved
            and (mine := next((row for row in rows if row.public_id == saved), None))
            and not notice.default_slot.children
        ):
            with notice:
                banner(
                    "positive",
                    _("The profile for {client} is saved. Its next invoice is made on {day}.").format(
                        client=mine.client_name, day=format_day(mine.next_run, branding.locale)
                    )
                    if mine.next_run
                    else _("The profile for {client} is saved.").format(client=mine.client_name),
                )
        table.rows = [_row(row, branding.locale) for row in rows]
        count.text = ngettext("{count} profile", "{count} profiles", len(rows)).format(count=len(rows))

    def change(action: Any, done: str) -> Any:
        async def handle(event: events.GenericEventArguments) -> None:
            notice.clear()
            try:
                await io_bound(action, current.db, staff, event.args["id"], clock=current.clock)
            except DomainError as error:
                with notice:
                    banner("negative", human_message(error, locale=branding.locale))
                return
            with notice:
                banner("positive", done.format(client=event.args["client"]))
            await reload()

        return handle

    table.on(
        "pause",
        change(pause_profile, _("The profile for {client} is paused: it makes no invoices until resumed.")),
    )
    table.on(
        "resume",
        change(resume_profile, _("The profile for {client} is active again, from its next day on.")),
    )
    ended = change(end_profile, _("The profile for {client} has ended; the invoices it made stay."))

    def confirm_end(event: events.GenericEventArguments) -> None:
        def build() -> ui.dialog:
            async def confirmed() -> None:
                dialog.close()
                await ended(event)

            with ui.dialog() as dialog, ui.card().classes("max-w-md gap-3 p-6"):
                dialog_title(dialog, _("End the profile for {client}?").format(client=event.args["client"]))
                ui.label(_(END_WARNING)).classes("text-sm text-grey-8")
                with ui.row().classes("w-full justify-end gap-2"):
                    ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")
                    ui.button(_("End profile"), on_click=confirmed).props(
                        "unelevated no-caps color=negative"
                    ).mark("end-confirm")
            return dialog

        host.show(build)

    table.on("end", confirm_end)
    await reload()


def _row(row: ProfileRow, locale: str) -> dict[str, Any]:
    active, paused = row.status == RecurringStatus.ACTIVE, row.status == RecurringStatus.PAUSED
    return {
        "id": row.public_id,
        "href": f"{PATH}/{row.public_id}",
        "client": row.client_name,
        "amount": format_money(row.total, locale),
        "frequency": frequency_text(row.unit, row.every),
        "next_run": format_day(row.next_run, locale) if row.next_run and (active or paused) else "—",
        "status": status_name(row.status),
        "color": STATUS_COLORS.get(row.status, "grey-8"),
        "pause": _("Pause") if active else "",
        "resume": _("Resume") if paused else "",
        "end": _("End") if active or paused else "",
    }
