"""Update Account Details: the pencil dialogs for the personal and company details and for the addresses.

Every field shows its own message beside it; Cancel, or a refused save, changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.field_errors import show_field_error
from components.headings import dialog_title
from components.language_choice import PreferenceFields
from components.offload import io_bound
from services.account_details import (
    AccountForm,
    AddressInput,
    ContactChange,
    countries,
    get_account,
    update_addresses,
    update_contact,
)
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _
from services.language_settings import Preferences, get_customer_preferences, set_customer_preferences
from services.portal import Portal
from services.principal import Principal

Done = Callable[[], Awaitable[None]]
# (field, label, browser autocomplete, takes the whole row)
ADDRESS_INPUTS = (
    ("line1", N_("Street"), "address-line1", True),
    ("line2", N_("Street, line 2 (optional)"), "address-line2", True),
    ("city", N_("City"), "address-level2", False),
    ("region", N_("State or region"), "address-level1", False),
    ("postal_code", N_("Postal code"), "postal-code", False),
)


async def contact_dialog(portal: Portal, principal: Principal, on_done: Done) -> ContactDialog:
    account = await io_bound(get_account, portal.db, principal)
    preferences = await io_bound(get_customer_preferences, portal.db, principal)
    return ContactDialog(portal, principal, account, on_done, preferences)


async def address_dialog(portal: Portal, principal: Principal, on_done: Done) -> AddressDialog:
    return AddressDialog(portal, principal, await io_bound(get_account, portal.db, principal), on_done)


def _field(label: str, value: str, key: str, *, autocomplete: str = "off", maxlength: int = 200) -> ui.input:
    field = ui.input(label, value=value).props(
        f'outlined dense autocomplete="{autocomplete}" maxlength={maxlength} hide-bottom-space'
    )
    return field.classes("w-full").mark(f"account-{key}")


def _show_errors(fields: dict[str, ui.input | ui.select], errors: dict[str, str]) -> None:
    """Each field shows its own message beside it (Quasar's error slot), or none."""
    for key, field in fields.items():
        message = errors.get(key, "")
        show_field_error(field, message)


class ContactDialog:
    def __init__(
        self,
        portal: Portal,
        principal: Principal,
        account: AccountForm,
        on_done: Done,
        preferences: Preferences | None = None,
    ) -> None:
        self.portal, self.principal, self.on_done = portal, principal, on_done
        contact = account.contact
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            dialog_title(self.dialog, _("Update Account Details"))
            ui.label(_("You sign in as {login_email}.").format(login_email=account.login_email)).classes(
                "text-sm text-grey-7"
            )
            self.fields: dict[str, ui.input | ui.select] = {
                "name": _field(_("Your name"), contact.name, "name", autocomplete="name"),
                "company_name": _field(
                    _("Company name"), contact.company_name, "company", autocomplete="organization"
                ),
                "email": _field(
                    _("Company e-mail (on invoices)"),
                    contact.email,
                    "email",
                    autocomplete="email",
                    maxlength=254,
                ),
                "phone": _field(_("Phone"), contact.phone, "phone", autocomplete="tel", maxlength=40),
                "website": _field(_("Website"), contact.website, "website", autocomplete="url"),
                "tax_number": _field(_("Tax number"), contact.tax_number, "tax-number", maxlength=40),
            }
            # The customer's own language (pages, e-mails, PDFs) and time zone belong to their account.
            self.preferences = PreferenceFields(
                preferences or Preferences(), browser_default=_("As my browser is set"), mark="account"
            )
            self.error = ui.label().classes("text-sm text-negative").mark("account-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button(_("Save"), on_click=self.submit).props("unelevated no-caps")
                self.save.mark("account-save")

    async def submit(self) -> None:
        values = {key: str(field.value or "") for key, field in self.fields.items()}
        change = ContactChange(**values)
        self.save.props("loading")
        try:
            saved = await io_bound(
                update_contact, self.portal.db, self.principal, change, clock=self.portal.clock
            )
        except InvalidDetails as error:
            _show_errors(self.fields, error.errors)
            self.error.text = _("Please correct the fields marked in red.")
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading")
        if self.preferences.changed:
            try:
                await io_bound(
                    set_customer_preferences,
                    self.portal.db,
                    self.principal,
                    self.preferences.change(),
                    clock=self.portal.clock,
                )
            except InvalidDetails as error:
                _show_errors(dict(self.preferences.fields), error.errors)
                return
            ui.navigate.reload()  # every word of the page in the new language
            return
        self.dialog.close()
        ui.notify(
            _("Your details are saved.") if saved.changed else _("Nothing was changed."), type="positive"
        )
        await self.on_done()


class AddressDialog:
    def __init__(self, portal: Portal, principal: Principal, account: AccountForm, on_done: Done) -> None:
        self.portal, self.principal, self.on_done = portal, principal, on_done
        options = dict(countries())
        self.fields: dict[str, ui.input | ui.select] = {}
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-2xl gap-2 p-6"):
            dialog_title(self.dialog, _("Addresses"))
            self._address("billing", _("Billing address"), account.billing, options)
            self.same = ui.checkbox(_("Ship to the billing address"), value=account.shipping_same_as_billing)
            self.same.mark("account-same-address")
            shipping = ui.column().classes("w-full gap-2")
            shipping.bind_visibility_from(self.same, "value", backward=lambda same: not same)
            with shipping:
                self._address("shipping", _("Shipping address"), account.shipping, options)
            self.error = ui.label().classes("text-sm text-negative").mark("address-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button(_("Save"), on_click=self.submit).props("unelevated no-caps")
                self.save.mark("address-save")

    def _address(self, prefix: str, title: str, value: AddressInput, options: dict[str, str]) -> None:
        ui.label(title).classes("text-sm font-medium text-grey-8 mt-2")
        grid = "grid grid-cols-1 sm:grid-cols-2 gap-2 w-full"
        with ui.element("div").classes(grid):
            for name, label, autocomplete, wide in ADDRESS_INPUTS:
                field = _field(
                    _(label),
                    getattr(value, name),
                    f"{prefix}-{name.replace('_', '-')}",
                    autocomplete=f"{prefix} {autocomplete}",
                    maxlength=20 if name == "postal_code" else 200,
                )
                self.fields[f"{prefix}.{name}"] = field.classes("sm:col-span-2" if wide else "")
            self.fields[f"{prefix}.country"] = (
                ui.select(options, label=_("Country"), value=value.country or None, with_input=True)
                .props("outlined dense hide-bottom-space")
                .classes("w-full")
                .mark(f"account-{prefix}-country")
            )

    def _value(self, prefix: str) -> AddressInput:
        def get(name: str) -> str:
            return str(self.fields[f"{prefix}.{name}"].value or "")

        return AddressInput(
            *(get(name) for name in ("line1", "line2", "city", "region", "postal_code", "country"))
        )

    async def submit(self) -> None:
        billing = self._value("billing")
        shipping = AddressInput() if self.same.value else self._value("shipping")
        self.save.props("loading")
        try:
            saved = await io_bound(
                update_addresses, self.portal.db, self.principal, billing, shipping, clock=self.portal.clock
            )
        except InvalidDetails as error:
            _show_errors(self.fields, error.errors)
            self.error.text = _("Please correct the fields marked in red.")
            return
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading")
        self.dialog.close()
        ui.notify(
            _("Your addresses are saved.") if saved.changed else _("Nothing was changed."), type="positive"
        )
        await self.on_done()
