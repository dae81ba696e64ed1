"""A client in the back office: New client (/admin/clients/new) and the client's page
(/admin/clients/{public_id}) with its details, balances, recent invoices and contact persons."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.cards import detail_card, figure_card
from components.client_form import ClientForm, EditClientDialog
from components.dialog_host import DialogHost
from components.field_errors import show_field_error
from components.headings import dialog_title, section_heading
from components.language import translated_columns
from components.offload import io_bound
from components.status import status_color
from components.tables import PHONE_HIDDEN, compact_on_phone
from services import portal
from services.account_details import AddressInput
from services.auto_pay import AutoPayStatus, client_auto_pay_status
from services.clients import (
    ACTIVE,
    DISABLED,
    INVITED,
    ClientView,
    ContactView,
    client_details,
    create_client,
    currency_is_fixed,
    get_client,
    list_contacts,
    new_client_details,
    recent_invoices,
)
from services.contacts import (
    add_contact,
    disable_contact,
    enable_contact,
    resend_contact_invitation,
)
from services.dashboard import Address
from services.dates import format_day
from services.errors import DomainError, InvalidDetails, NotFound, human_message
from services.i18n import N_, _
from services.money import format_money
from services.reminders import client_reminders, describe_rule, set_client_reminders
from services.staff_auth import StaffPrincipal
from services.two_factor import contacts_with_two_factor, reset_contact_two_factor

INVOICE_COLUMNS: list[dict[str, Any]] = [
    {"name": "number", "label": N_("Number"), "field": "number", "align": "left"},
    {"name": "issue_date", "label": N_("Date"), "field": "issue_date", "align": "left", **PHONE_HIDDEN},
    {"name": "due_date", "label": N_("Due Date"), "field": "due_date", "align": "left", **PHONE_HIDDEN},
    {"name": "status", "label": N_("Status"), "field": "status", "align": "left"},
    {"name": "total", "label": N_("Total"), "field": "total", "align": "right", **PHONE_HIDDEN},
    {"name": "balance", "label": N_("Balance Due"), "field": "balance", "align": "right"},
]
NUMBER_CELL = """
<q-td :props="props">
  <a :href="'/admin/invoices/' + props.row.id"
     class="text-primary font-medium no-underline">{{ props.value }}</a>
  <q-badge v-if="props.row.retainer" outline color="grey-8" class="ms-2 gt-xs"
           :role="null">{{ props.row.retainer }}</q-badge>
</q-td>
"""
STATUS_CELL = """
<q-td :props="props">
  <q-badge :color="props.row.color" class="text-sm px-2" rounded :role="null">{{ props.value }}</q-badge>
</q-td>
"""
STATE_COLORS = {ACTIVE: "green-9", INVITED: "blue-9", DISABLED: "grey-7"}


@ui.page("/admin/clients/new")
async def new_client_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    details = await io_bound(new_client_details, current.db, staff.organization_id)
    with admin_frame(_("New client"), branding=branding, staff=staff, active="/admin/clients"):
        with ui.card().classes("w-full max-w-3xl gap-2 p-4 sm:p-6").props("flat bordered"):
            form = ClientForm(details, currency_fixed=False)
            error = ui.label().classes("text-sm text-negative").mark("client-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=lambda: ui.navigate.to("/admin/clients")).props(
                    "flat no-caps"
                )
                save = ui.button(_("Create client")).props("unelevated no-caps").mark("client-save")

    async def submit() -> None:
        save.props("loading")
        try:
            created = await io_bound(
                create_client, current.db, staff.organization_id, form.value(), clock=current.clock
            )
        except InvalidDetails as problem:
            form.show_errors(problem.errors)
            error.text = human_message(problem)
            return
        except DomainError as problem:
            error.text = human_message(problem)
            return
        finally:
            save.props(remove="loading")
        ui.notify(_("{display_name} is added.").format(display_name=created.display_name), type="positive")
        ui.navigate.to(f"/admin/clients/{created.public_id}")

    save.on_click(submit)


@ui.page("/admin/clients/{public_id}")
async def client_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    try:
        client = await io_bound(get_client, current.db, staff.organization_id, public_id)
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This client does not exist.")) from None
    branding = await business_branding(current.db)
    locale = branding.locale
    with admin_frame(client.display_name, branding=branding, staff=staff, active="/admin/clients"):
        host = DialogHost()
        with ui.row().classes("w-full items-center gap-2"):
            ui.link(_("← All clients"), "/admin/clients").classes("text-sm text-primary no-underline")
            ui.space()
            edit = ui.button(_("Edit"), icon="edit").props("outline no-caps").mark("client-edit")
            ui.button(_("New quote"), icon="request_quote").props(
                f"outline no-caps href=/admin/quotes/new?client={client.public_id}"
            ).mark("client-new-quote")
            ui.button(_("New invoice"), icon="add").props(
                f"unelevated no-caps href=/admin/invoices/new?client={client.public_id}"
            ).mark("client-new-invoice")
        overview = ui.column().classes("w-full gap-6")
        with ui.column().classes("w-full gap-2"):
            section_heading(_("Recent invoices"))
            table = ui.table(columns=translated_columns(INVOICE_COLUMNS), rows=[], row_key="id").classes(
                "w-full"
            )
            no_invoices = _("No invoices yet.")
            table.props(f'flat bordered no-data-label="{no_invoices}"')
            compact_on_phone(table)
            table.add_slot("body-cell-number", NUMBER_CELL)
            table.add_slot("body-cell-status", STATUS_CELL)
        contacts = ContactsSection(staff, client.public_id, host, locale)
        reminders = RemindersSection(staff, client.public_id, locale)
        auto_pay = ui.column().classes("w-full gap-2").mark("client-auto-pay")

    def show_overview(view: ClientView) -> None:
        overview.clear()
        with overview:
            with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-3 gap-4 w-full"):
                figure_card(
                    _("Outstanding Invoices"),
                    format_money(view.balances.outstanding, locale),
                    icon="receipt_long",
                )
                figure_card(
                    _("Available Credits"), format_money(view.balances.credits, locale), icon="savings"
                )
                figure_card(
                    _("Available Retainer Payments"),
                    format_money(view.balances.retainer, locale),
                    icon="account_balance_wallet",
                )
            detail_card(_("Details"), _detail_rows(view), icon="badge", test_id="client-details")

    async def open_edit() -> None:
        async def build() -> EditClientDialog:
            details = await io_bound(client_details, current.db, staff.organization_id, public_id)
            fixed = await io_bound(currency_is_fixed, current.db, staff.organization_id, public_id)
            return EditClientDialog(
                current, staff.organization_id, public_id, details, currency_fixed=fixed, on_saved=saved
            )

        await host.show_loaded(build)

    async def saved(view: ClientView) -> None:
        show_overview(view)
        ui.page_title(
            _("{display_name} · Back office · {name}").format(
                display_name=view.display_name, name=branding.name
            )
        )

    edit.on_click(open_edit)
    show_overview(client)
    rows = await io_bound(
        recent_invoices, current.db, staff.organization_id, public_id, today=current.clock().date()
    )
    table.rows = [
        {
            "id": row.public_id,
            "number": row.number,
            "retainer": _("Retainer") if row.is_retainer else "",  # its badge's word
            "issue_date": format_day(row.issue_date, locale),
            "due_date": format_day(row.due_date, locale),
            "status": row.status_label,
            "color": status_color(row.status_label),
            "total": format_money(row.total, locale),
            "balance": format_money(row.balance_due, locale),
        }
        for row in rows
    ]
    await contacts.reload()
    await reminders.reload()
    status = await io_bound(client_auto_pay_status, current.db, staff.organization_id, public_id)
    with auto_pay:
        _auto_pay_state(status, locale)


def _auto_pay_state(status: AutoPayStatus, locale: str) -> None:
    """Whether the customer turned auto-pay on, with which method, when and who (only they can change it)."""
    section_heading(_("Auto-pay"))
    if status.enabled and status.consented_at is not None:
        text = _("On: each new invoice is charged to the customer's {method} on its due date.").format(
            method=status.method_text
        )
        given = _("Consent given by {name} on {day}.").format(
            name=status.consented_by, day=format_day(status.consented_at, locale)
        )
        ui.label(text).classes("text-sm").mark("client-auto-pay-state")
        ui.label(given).classes("text-sm text-grey-7")
    else:
        ui.label(_("Off: the customer pays each invoice themselves.")).classes("text-sm").mark(
            "client-auto-pay-state"
        )


class RemindersSection:
    """Whether the client gets payment reminders (any staff member may exclude it), and the latest sent."""

    def __init__(self, staff: StaffPrincipal, client_public_id: str, locale: str) -> None:
        self.staff, self.client_public_id, self.locale = staff, client_public_id, locale
        self.stored: bool | None = None
        with ui.column().classes("w-full gap-2").mark("client-reminders"):
            section_heading(_("Payment reminders"))
            self.switch = ui.switch(_("Send payment reminders to this client")).mark(
                "client-reminders-switch"
            )
            ui.label(
                _("Switched off, the client gets no reminders, and none later for the days it was off.")
            ).classes("text-sm text-grey-7")
            self.off_for_all = ui.column().classes("w-full")
            self.notice = ui.column().classes("w-full")
            self.list = ui.column().classes("w-full gap-1").mark("client-reminders-sent")
        self.switch.on_value_change(self.change)

    async def reload(self) -> None:
        current = portal.current()
        state = await io_bound(
            client_reminders, current.db, self.staff.organization_id, self.client_public_id
        )
        self.stored = state.send
        self.switch.set_value(state.send)
        self.off_for_all.clear()
        if not state.business_sends:
            with self.off_for_all:
                ui.label(
                    _("Reminders are off for all clients until the owner turns them on in Settings.")
                ).classes("text-sm text-grey-8")
        self.list.clear()
        with self.list:
            if not state.recent:
                ui.label(_("No reminders sent yet.")).classes("text-sm text-grey-7")
                return
            ui.label(_("Sent lately")).classes("text-sm font-medium text-grey-9")
            for sent in state.recent:
                with ui.row().classes("w-full gap-x-3 gap-y-0 text-sm items-baseline"):
                    ui.label(format_day(sent.sent_on, self.locale)).classes("text-grey-8 w-28")
                    ui.link(sent.invoice_number, f"/admin/invoices/{sent.invoice_public_id}").classes(
                        "text-primary no-underline font-medium"
                    )
                    ui.label(describe_rule(sent.rule_days)).classes("text-grey-8")

    async def change(self) -> None:
        wanted = bool(self.switch.value)
        if self.stored is None or wanted == self.stored:  # being filled in, or put back after a refusal
            return
        current = portal.current()
        self.notice.clear()
        try:
            await io_bound(
                set_client_reminders,
                current.db,
                self.staff,
                self.client_public_id,
                wanted,
                clock=current.clock,
            )
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error, now=current.clock()))
            self.switch.set_value(self.stored)
            return
        self.stored = wanted
        with self.notice:
            banner(
                "positive",
                _("This client gets payment reminders again.")
                if wanted
                else _("This client gets no payment reminders."),
            )


class ContactsSection:
    """Contact persons with portal access: their state, Add contact, Resend invitation, Disable, Enable."""

    def __init__(self, staff: StaffPrincipal, client_public_id: str, host: DialogHost, locale: str) -> None:
        self.staff, self.client_public_id, self.host, self.locale = staff, client_public_id, host, locale
        with ui.column().classes("w-full gap-2"):
            with ui.row().classes("w-full items-center gap-2"):
                section_heading(_("Contact persons"))
                ui.space()
                ui.button(_("Add contact"), icon="person_add", on_click=self.open_add).props(
                    "outline no-caps"
                ).mark("contact-add")
            ui.label(
                _("Contact persons sign in to the portal to see and pay this client's invoices.")
            ).classes("text-sm text-grey-7")
            self.notice = ui.column().classes("w-full")
            self.list = ui.column().classes("w-full gap-2")

    async def reload(self) -> None:
        current = portal.current()
        contacts = await io_bound(
            list_contacts, current.db, self.staff.organization_id, self.client_public_id
        )
        self.two_factor = await io_bound(
            contacts_with_two_factor, current.db, self.staff.organization_id, self.client_public_id
        )
        self.list.clear()
        with self.list:
            if not contacts:
                ui.label(_("No contact persons yet.")).classes("text-sm text-grey-7")
            for contact in contacts:
                self._row(contact)

    def _row(self, contact: ContactView) -> None:
        with ui.card().classes("w-full p-3").props("flat bordered").mark(f"contact-{contact.email}"):
            with ui.row().classes("w-full items-center gap-x-4 gap-y-2"):
                with ui.column().classes("gap-0 min-w-0 flex-1"):
                    ui.label(contact.name).classes("font-medium text-grey-10 break-words")
                    ui.label(contact.email).classes("text-sm text-grey-7 break-all")
                ui.badge(
                    _state_label(contact, self.locale), color=STATE_COLORS.get(contact.state, "grey-8")
                ).props("rounded").classes("text-sm px-2").mark(f"contact-state-{contact.email}")
                if contact.public_id in self.two_factor:
                    ui.badge(_("Two-factor on"), color="teal-9").props("rounded outline").classes(
                        "text-sm px-2"
                    ).mark(f"contact-two-factor-{contact.email}")
                with ui.row().classes("gap-1"):
                    if contact.is_active and not contact.has_login:
                        label = _("Resend invitation") if contact.invited_at else _("Send invitation")
                        ui.button(label, on_click=lambda c=contact: self.resend(c)).props(
                            "flat dense no-caps color=primary"
                        ).mark(f"contact-resend-{contact.email}")
                    if contact.public_id in self.two_factor:
                        ui.button(
                            _("Reset two-factor"), on_click=lambda c=contact: self.confirm_reset_two_factor(c)
                        ).props("flat dense no-caps color=negative").mark(
                            f"contact-reset-two-factor-{contact.email}"
                        )
                    if contact.is_active:
                        ui.button(_("Disable"), on_click=lambda c=contact: self.confirm_disable(c)).props(
                            "flat dense no-caps color=negative"
                        ).mark(f"contact-disable-{contact.email}")
                    else:
                        ui.button(_("Enable"), on_click=lambda c=contact: self.enable(c)).props(
                            "flat dense no-caps color=primary"
                        ).mark(f"contact-enable-{contact.email}")

    def say(self, kind: str, text: str) -> None:
        self.notice.clear()
        with self.notice:
            banner(kind, text)

    async def open_add(self) -> None:
        self.host.show(lambda: AddContactDialog(self))

    async def resend(self, contact: ContactView) -> None:
        current = portal.current()
        try:
            await io_bound(
                resend_contact_invitation,
                current.db,
                self.staff.organization_id,
                contact.public_id,
                base_url=current.settings.public_url,
                invited_by_staff_id=self.staff.staff_user_id,
                clock=current.clock,
            )
        except DomainError as error:
            self.say("negative", human_message(error, now=current.clock()))
            return
        self.say(
            "positive",
            _(
                "A new invitation is on its way to {email}. The link in the earlier one no longer works."
            ).format(email=contact.email),
        )
        await self.reload()

    def confirm_disable(self, contact: ContactView) -> None:
        def build() -> ui.dialog:
            with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
                dialog_title(dialog, _("Disable {name}?").format(name=contact.name))
                ui.label(
                    _(
                        "{email} can no longer sign in to the portal, and is signed out everywhere now. You "
                        "can enable the contact again later."
                    ).format(email=contact.email)
                ).classes("text-sm text-grey-8")
                with ui.row().classes("w-full justify-end gap-2"):
                    ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")

                    async def confirmed() -> None:
                        dialog.close()
                        await self.set_active(contact, active=False)

                    ui.button(_("Disable"), on_click=confirmed).props(
                        "unelevated no-caps color=negative"
                    ).mark("contact-disable-confirm")
            return dialog

        self.host.show(build)

    def confirm_reset_two_factor(self, contact: ContactView) -> None:
        def build() -> ui.dialog:
            with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-3 p-6"):
                dialog_title(dialog, _("Reset {name}'s two-factor sign-in?").format(name=contact.name))
                ui.label(
                    _(
                        "For a lost phone: their authenticator app and recovery codes stop working, and "
                        "{email} signs in with the password alone until they turn it on again. Make sure it "
                        "is really them asking."
                    ).format(email=contact.email)
                ).classes("text-sm text-grey-8")
                with ui.row().classes("w-full justify-end gap-2"):
                    ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")

                    async def confirmed() -> None:
                        dialog.close()
                        await self.reset_two_factor(contact)

                    ui.button(_("Reset"), on_click=confirmed).props("unelevated no-caps color=negative").mark(
                        "contact-reset-two-factor-confirm"
                    )
            return dialog

        self.host.show(build)

    async def reset_two_factor(self, contact: ContactView) -> None:
        current = portal.current()
        try:
            await io_bound(
                reset_contact_two_factor,
                current.db,
                self.staff.organization_id,
                contact.public_id,
                staff_user_id=self.staff.staff_user_id,
                clock=current.clock,
            )
        except DomainError as error:
            self.say("negative", human_message(error, now=current.clock()))
            return
        self.say(
            "positive",
            _("{name}'s two-factor sign-in is reset; the password alone signs in now.").format(
                name=contact.name
            ),
        )
        await self.reload()

    async def enable(self, contact: ContactView) -> None:
        await self.set_active(contact, active=True)

    async def set_active(self, contact: ContactView, *, active: bool) -> None:
        current = portal.current()
        try:
            if active:
                await io_bound(
                    enable_contact,
                    current.db,
                    self.staff.organization_id,
                    contact.public_id,
                    staff_user_id=self.staff.staff_user_id,
                    clock=current.clock,
                )
            else:
                await io_bound(
                    disable_contact,
                    current.db,
                    self.staff.organization_id,
                    contact.public_id,
                    staff_user_id=self.staff.staff_user_id,
                    clock=current.clock,
                    events=current.events,  # their open pages leave
                )
        except DomainError as error:
            self.say("negative", human_message(error, now=current.clock()))
            return
        self.say(
            "positive",
            (
                _("{name} can sign in to the portal again.")
                if active
                else _("{name} can no longer sign in to the portal.")
            ).format(name=contact.name),
        )
        await self.reload()


class AddContactDialog:
    def __init__(self, section: ContactsSection) -> None:
        self.section = section
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-md gap-2 p-6"):
            dialog_title(self.dialog, _("Add contact"))
            ui.label(
                _(
                    "We e-mail them an invitation to the portal, with a link to choose their password "
                    "(valid for 72 hours)."
                )
            ).classes("text-sm text-grey-7")
            self.name = _contact_input(_("Name"), "contact-name", 200)
            self.email = _contact_input(_("E-mail"), "contact-email", 254)
            self.error = ui.label().classes("text-sm text-negative").mark("contact-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button(_("Add and invite"), on_click=self.submit).props("unelevated no-caps")
                self.save.mark("contact-save")

    async def submit(self) -> None:
        current = portal.current()
        staff = self.section.staff
        self.save.props("loading")
        try:
            contact = await io_bound(
                add_contact,
                current.db,
                staff.organization_id,
                self.section.client_public_id,
                name=str(self.name.value or ""),
                email=str(self.email.value or ""),
                base_url=current.settings.public_url,
                invited_by_staff_id=staff.staff_user_id,
                clock=current.clock,
            )
        except InvalidDetails as error:
            for key, field in (("name", self.name), ("email", self.email)):
                message = error.errors.get(key, "")
                show_field_error(field, message)
            self.error.text = ""
            return
        except DomainError as error:
            self.error.text = human_message(error, now=current.clock())
            return
        finally:
            self.save.props(remove="loading")
        self.dialog.close()
        self.section.say(
            "positive",
            _("{name} is added, and an invitation is on its way to {email}.").format(
                name=contact.name, email=contact.email
            ),
        )
        await self.section.reload()


def _contact_input(label: str, marker: str, maxlength: int) -> ui.input:
    field = ui.input(label).props(f"outlined dense autocomplete=off maxlength={maxlength} hide-bottom-space")
    return field.classes("w-full").mark(marker)


def _state_label(contact: ContactView, locale: str) -> str:
    if contact.state == INVITED and contact.invited_at is not None:
        return _("Invited {date}").format(date=format_day(contact.invited_at, locale))
    return {ACTIVE: _("Active"), DISABLED: _("Disabled")}.get(contact.state, _("Not invited"))


def _detail_rows(view: ClientView) -> list[tuple[str, str | list[str]]]:
    return [
        (_("Company"), view.company_name),
        (_("E-mail"), view.email),
        (_("Phone"), view.phone),
        (_("Website"), view.website),
        (_("Tax number"), view.tax_number),
        (_("Currency"), view.currency),
        (_("Billing address"), _address_lines(view.address) or _("Not given")),
        (_("Shipping address"), _address_lines(view.shipping) or _("Same as billing")),
    ]


def _address_lines(address: AddressInput) -> list[str]:
    """The address as the customer's Home shows it."""
    return Address(
        address.line1, address.line2, address.city, address.region, address.postal_code, address.country
    ).lines()
