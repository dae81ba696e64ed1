"""A client's details form, for "New client" and the Edit dialog: every field shows its own message.

The currency is an ISO 4217 code typed in (checked by the service); once the client has a document
it is read-only, with the reason beneath it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.account_forms import ADDRESS_INPUTS
from components.field_errors import show_field_error
from components.headings import dialog_title
from components.offload import io_bound
from services.account_details import AddressInput, countries
from services.clients import ClientInput, ClientView, update_client
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _
from services.portal import Portal

Saved = Callable[[ClientView], Awaitable[None]]
# (field, label, browser autocomplete, max length)
DETAIL_INPUTS = (
    ("display_name", N_("Display name"), "off", 200),
    ("company_name", N_("Company name"), "organization", 200),
    ("email", "E-mail", "email", 254),
    ("phone", N_("Phone"), "tel", 40),
    ("website", N_("Website"), "url", 200),
    ("tax_number", N_("Tax number"), "off", 50),
)
BILLING = "address"  # the service's key for the billing address's fields: "address.city"
SHIPPING = "shipping"


class ClientForm:
    """The inputs, laid out in the current container; ``value`` reads them, ``show_errors`` marks them."""

    def __init__(self, details: ClientInput, *, currency_fixed: bool) -> None:
        self.fields: dict[str, ui.input | ui.select] = {}
        grid = "grid grid-cols-1 sm:grid-cols-2 gap-x-3 gap-y-2 w-full"
        with ui.element("div").classes(grid):
            for name, label, autocomplete, maxlength in DETAIL_INPUTS:
                self.fields[name] = _input(
                    _(label) + (" *" if name == "display_name" else ""),
                    getattr(details, name),
                    f"client-{name.replace('_', '-')}",
                    autocomplete=autocomplete,
                    maxlength=maxlength,
                )
            currency = _input(_("Currency (ISO code)"), details.currency, "client-currency", maxlength=3)
            currency.props("input-class=uppercase")
            if currency_fixed:
                fixed = _("Fixed: this client has documents in {currency}, so its currency cannot change.")
                currency.props(f'readonly hint="{fixed.format(currency=details.currency)}"')
            else:
                hint = _("Such as USD, EUR or GBP. It cannot change once a document exists.")
                currency.props(f'hint="{hint}"')
            self.fields["currency"] = currency
        options = dict(countries())
        self._address(BILLING, _("Billing address"), details.address, options)
        self.same = ui.checkbox(_("Ship to the billing address"), value=details.shipping.is_empty)
        self.same.mark("client-same-address")
        shipping = ui.column().classes("w-full gap-2")
        shipping.bind_visibility_from(self.same, "value", backward=lambda same: not same)
        with shipping:
            self._address(SHIPPING, _("Shipping address"), details.shipping, options)

    def _address(self, prefix: str, title: str, value: AddressInput, options: dict[str, str]) -> None:
        marker = "billing" if prefix == BILLING else "shipping"
        ui.label(title).classes("text-sm font-medium text-grey-8 mt-2")
        with ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-x-3 gap-y-2 w-full"):
            for name, label, autocomplete, wide in ADDRESS_INPUTS:
                field = _input(
                    label,
                    getattr(value, name),
                    f"client-{marker}-{name.replace('_', '-')}",
                    autocomplete=f"{marker} {autocomplete}",
                    maxlength=20 if name == "postal_code" else 200,
                )
                self.fields[f"{prefix}.{name}"] = field.classes("sm:col-span-2" if wide else "")
            self.fields[f"{prefix}.country"] = (
                ui.select(
                    options, label=_("Country"), value=value.country or None, with_input=True, clearable=True
                )
                .props("outlined dense hide-bottom-space")
                .classes("w-full")
                .mark(f"client-{marker}-country")
            )

    def value(self) -> ClientInput:
        def text(key: str) -> str:
            return str(self.fields[key].value or "")

        def address(prefix: str) -> AddressInput:
            names = ("line1", "line2", "city", "region", "postal_code", "country")
            return AddressInput(*(text(f"{prefix}.{name}") for name in names))

        return ClientInput(
            display_name=text("display_name"),
            currency=text("currency"),
            company_name=text("company_name"),
            email=text("email"),
            phone=text("phone"),
            website=text("website"),
            tax_number=text("tax_number"),
            address=address(BILLING),
            shipping=AddressInput() if self.same.value else address(SHIPPING),
        )

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each field shows its own message beside it (Quasar's error slot), or none."""
        for key, field in self.fields.items():
            message = errors.get(key, "")
            show_field_error(field, message)


class EditClientDialog:
    """Edit: the form in a dialog; Cancel, or a refused save, changes nothing."""

    def __init__(
        self,
        portal: Portal,
        organization_id: int,
        public_id: str,
        details: ClientInput,
        *,
        currency_fixed: bool,
        on_saved: Saved,
    ) -> None:
        self.portal, self.organization_id, self.public_id, self.on_saved = (
            portal,
            organization_id,
            public_id,
            on_saved,
        )
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-2xl gap-2 p-4 sm:p-6"):
            dialog_title(self.dialog, _("Edit client"))
            self.form = ClientForm(details, currency_fixed=currency_fixed)
            self.error = ui.label().classes("text-sm text-negative").mark("client-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = ui.button(_("Save"), on_click=self.submit).props("unelevated no-caps")
                self.save.mark("client-save")

    async def submit(self) -> None:
        self.save.props("loading")
        try:
            saved = await io_bound(
                update_client, self.portal.db, self.organization_id, self.public_id, self.form.value()
            )
        except InvalidDetails as error:
            self.form.show_errors(error.errors)
            self.error.text = human_message(error)
            return
        except DomainError as error:
            self.form.show_errors({})
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading")
        self.dialog.close()
        ui.notify(_("The client's details are saved."), type="positive")
        await self.on_saved(saved)


def _input(
    label: str, value: str, marker: str, *, autocomplete: str = "off", maxlength: int = 200
) -> ui.input:
    field = ui.input(label, value=value).props(
        f'outlined dense autocomplete="{autocomplete}" maxlength={maxlength} hide-bottom-space'
    )
    return field.classes("w-full").mark(marker)
