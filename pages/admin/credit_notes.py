"""Credit Notes (/admin/credit-notes): the list, issuing new ones and voiding unused ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from fastapi import Request
from nicegui import events, ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.dialog_host import DialogHost
from components.headings import dialog_title
from components.language import translated_columns
from components.line_items import NO_TAX, LineItems, tax_choices
from components.offload import io_bound
from components.tables import (
    PHONE_HIDDEN,
    accessible_headers,
    compact_on_phone,
    requested_page,
    server_pagination,
)
from services import portal
from services.admin_payments import ClientChoice, client_choices
from services.business_documents import issue_credit_note, void_credit_note
from services.credit_notes import CreditNoteList, CreditNoteRow, list_business_credit_notes
from services.dates import format_day
from services.errors import DomainError, InvalidDetails, human_message
from services.events import client_documents_topic
from services.i18n import N_, _, ngettext
from services.money import Money, format_money
from services.portal import Portal
from services.staff_auth import StaffPrincipal
from services.tax_rates import TaxRateView, list_tax_rates

FIRST_PAGE = server_pagination(page=1, page_size=25, sort="date", descending=True, total=0)
COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "align": "left"},
    {"name": "client", "label": N_("Client"), "field": "client", "align": "left", **PHONE_HIDDEN},
    {"name": "date", "label": N_("Date"), "field": "date", "align": "left", **PHONE_HIDDEN},
    {"name": "total", "label": N_("Total"), "field": "total", "align": "right", **PHONE_HIDDEN},
    {"name": "remaining", "label": N_("Remaining"), "field": "remaining", "align": "right"},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
    {"name": "actions", "label": N_("Actions"), "srOnly": True, "field": "id", "align": "right"},
]  # fmt: skip
STATUS_LABELS = {"open": N_("Open"), "closed": N_("Used"), "void": N_("Void"), "draft": N_("Draft")}
STATUS_COLORS = {"Open": "positive", "Used": "grey-7", "Void": "negative", "Draft": "grey-8"}
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""
ACTIONS_CELL = """
<q-td :props="props">
  <q-btn v-if="props.row.voidable" flat dense no-caps color="negative" :label="props.row.voidable"
         @click="() => $parent.$emit('void', props.row)" />
</q-td>
"""
MAX_REASON_LENGTH = 2000
Done = Callable[[], Awaitable[None]]


@ui.page("/admin/credit-notes")
async def credit_notes_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    clients = await io_bound(client_choices, current.db, staff.organization_id)
    rates = await io_bound(list_tax_rates, current.db, staff.organization_id)
    state = {"page": 1, "size": 25}

    with admin_frame(_("Credit Notes"), branding=branding, staff=staff, active="/admin/credit-notes"):
        host = DialogHost()
        notice = ui.column().classes("w-full gap-2")
        with ui.row().classes("w-full items-center gap-3"):
            count = ui.label().classes("text-sm text-grey-7")
            ui.space()
            ui.button(
                _("New credit note"),
                icon="add",
                on_click=lambda: host.show(
                    lambda: NewCreditNoteDialog(current, staff, clients, rates, branding.locale, reload)
                ),
            ).props("unelevated no-caps").mark("new-credit-note")
        none_yet = _("No credit notes yet.")
        table = (
            ui.table(columns=translated_columns(COLUMNS), rows=[], row_key="id", pagination=FIRST_PAGE)
            .classes("w-full")
            .props(f'flat bordered no-data-label="{none_yet}"')
            .mark("credit-notes-table")
        )
        table.props["rows-per-page-options"] = [10, 25, 50, 100]
        compact_on_phone(table)
        accessible_headers(table)
        table.add_slot("body-cell-status", STATUS_CELL)
        table.add_slot("body-cell-actions", ACTIONS_CELL)

    async def reload() -> None:
        found: CreditNoteList = await io_bound(
            list_business_credit_notes,
            current.db,
            staff.organization_id,
            page=state["page"],
            page_size=state["size"],
        )
        table.rows = [_row(row, branding.locale) for row in found.rows]
        table.pagination = server_pagination(
            page=found.page, page_size=found.page_size, sort="date", descending=True, total=found.total_count
        )
        count.text = ngettext("{count} credit note", "{count} credit notes", found.total_count).format(
            count=found.total_count
        )

    async def on_request(event: events.GenericEventArguments) -> None:
        wanted = requested_page(event.args, sorts=(), default_sort="")
        state["page"], state["size"] = wanted["page"], wanted["page_size"]
        await reload()

    async def on_void(event: events.GenericEventArguments) -> None:
        await void(event.args["id"], event.args["number"], event.args["client_id"])

    async def void(public_id: str, number: str, client_public_id: str) -> None:
        notice.clear()
        try:
            await io_bound(
                void_credit_note, current.db, staff.organization_id, public_id, clock=current.clock
            )
        except DomainError as error:
            with notice:
                banner("negative", human_message(error, locale=branding.locale))
            return
        current.events.publish(client_documents_topic(client_public_id))
        with notice:
            banner(
                "positive",
                _("Credit note {number} is void; its credit is no longer available.").format(number=number),
            )
        await reload()

    table.on("request", on_request)
    table.on("void", on_void)
    await reload()


class NewCreditNoteDialog:
    """New credit note: a client, lines with live totals and an optional reason; issued at once."""

    def __init__(
        self,
        portal: Portal,
        staff: StaffPrincipal,
        clients: list[ClientChoice],
        rates: list[TaxRateView],
        locale: str,
        on_done: Done,
    ) -> None:
        self.portal, self.staff, self.locale, self.on_done = portal, staff, locale, on_done
        self.clients = {client.public_id: client for client in clients}
        default = next((rate.public_id for rate in rates if rate.is_default), NO_TAX)
        today = portal.clock().date()
        with (
            ui.dialog().props("maximized-on-phone") as self.dialog,
            ui.card().classes("w-full max-w-5xl gap-3 p-6"),
        ):
            dialog_title(self.dialog, _("New credit note"))
            ui.label(_("Its total becomes the client's available credit as soon as it is issued.")).classes(
                "text-sm text-grey-7"
            )
            with ui.row().classes("w-full gap-2 no-wrap max-sm:flex-wrap"):
                self.client = (
                    ui.select(
                        {c.public_id: c.name for c in clients},
                        label=_("Client"),
                        on_change=self.client_changed,
                    )
                    .props("outlined dense use-input input-debounce=0 hide-bottom-space")
                    .classes("w-full sm:w-80")
                    .mark("credit-client")
                )
                self.issue_date = (
                    ui.input(_("Date"), value=today.isoformat())
                    .props("outlined dense type=date hide-bottom-space")
                    .classes("w-full sm:w-44")
                    .mark("credit-date")
                )
            first = next(iter(self.clients.values()), None)
            self.items = LineItems(
                currency=first.currency if first else "USD",
                locale=locale,
                choices=tax_choices(rates),
                default_tax=default,
            )
            self.reason = (
                ui.textarea(_("Reason or notes (optional, shown to the client)"))
                .props(f"outlined autogrow counter maxlength={MAX_REASON_LENGTH}")
                .classes("w-full")
                .mark("credit-reason")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("credit-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Issue credit note"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("credit-submit")
                )

    def client_changed(self) -> None:
        client = self.clients.get(self.client.value or "")
        if client is not None:
            self.items.set_currency(client.currency)

    async def submit(self) -> None:
        client = self.clients.get(self.client.value or "")
        if client is None:
            self.error.text = _("Choose the client to credit.")
            return
        try:
            issued = date.fromisoformat(self.issue_date.value or "")
        except ValueError:
            self.error.text = _("Enter the credit note's date.")
            return
        lines = self.items.lines()
        if lines is None:
            self.error.text = _("Please correct the lines marked in red.")
            return
        if not lines:
            self.error.text = _("Add at least one line.")
            return
        self.error.text = ""
        self.submit_button.props("loading disable")
        try:
            note = await io_bound(
                issue_credit_note,
                self.portal.db,
                self.staff.organization_id,
                client_public_id=client.public_id,
                lines=lines,
                issue_date=issued,
                reason=(self.reason.value or "").strip(),
                clock=self.portal.clock,
            )
        except InvalidDetails as error:
            self.items.show_errors(error.errors)
            self.error.text = " ".join(error.errors.values())
            return
        except (DomainError, ValueError) as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        self.portal.events.publish(client_documents_topic(client.public_id))
        self.dialog.close()
        total = format_money(Money(note.total_minor, note.currency), self.locale)
        ui.notify(
            _("Credit note {number} of {total} issued to {name}.").format(
                number=note.number, total=total, name=client.name
            ),
            type="positive",
        )
        await self.on_done()


def _row(row: CreditNoteRow, locale: str) -> dict[str, Any]:
    status = STATUS_LABELS.get(row.status, row.status.title())
    return {
        "id": row.public_id,
        "number": row.number,
        "client": row.client_name,
        "client_id": row.client_public_id,
        "date": format_day(row.issue_date, locale),
        "total": format_money(row.total, locale),
        "remaining": format_money(row.remaining, locale) if row.status != "void" else "—",
        "status": _(status),  # the English label is the colour's key
        "color": STATUS_COLORS.get(status, "grey-7"),
        # Void's button (its word) while open: the service refuses, and says why, if some was used.
        "voidable": _("Void") if row.status == "open" else "",
    }
