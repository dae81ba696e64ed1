"""First-run setup (/setup): the business's profile and the owner's login, shown until it is done."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from components.banner import banner
from components.countries import country_options
from components.field_errors import show_field_error
from components.headings import page_heading, section_heading
from components.offload import io_bound
from components.password_fields import NewPasswordFields
from components.theme import apply_theme
from services import portal
from services.account_details import AddressInput
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _
from services.setup import (
    ALREADY_SET_UP_MESSAGE,
    AlreadySetUp,
    SetupForm,
    currencies,
    default_currency,
    set_up_business,
    suggested_locale,
)

FIELD_LABELS = {
    "business_name": N_("Business name"),
    "address.line1": N_("Street and number"),
    "address.line2": N_("Street, line 2"),
    "address.city": N_("City"),
    "address.region": N_("State or region"),
    "address.postal_code": N_("Postal code"),
    "address.country": N_("Country"),
    "email": N_("Business e-mail"),
    "phone": N_("Phone"),
    "website": N_("Website"),
    "currency": N_("Currency (ISO code, like EUR)"),
    "owner_name": N_("Your name"),
    "owner_email": N_("Your e-mail"),
    "password": N_("Password"),
    "confirm": N_("Re-enter password"),
}


@ui.page("/setup")
async def setup_page(request: Request) -> None:
    apply_theme()
    ui.page_title(_("Set up your portal"))
    locale = suggested_locale(request.headers.get("accept-language", ""))
    SetupView(portal.current(), locale=locale, ip_address=client_address(request))


class SetupView:
    """The form; each field shows its own problem, and a list above the button names them all."""

    def __init__(self, current: portal.Portal, *, locale: str, ip_address: str) -> None:
        self.current, self.locale, self.ip_address = current, locale, ip_address
        country = locale.partition("_")[2]
        country = country if country in country_options() else ""
        self.auto_currency = default_currency(country)
        with (
            ui.column().classes("w-full items-center p-4"),
            ui.card().classes("w-full max-w-2xl p-6 gap-3").props("flat bordered"),
        ):
            page_heading(_("Set up your portal"))
            ui.label(
                _("Tell us about your business and choose the owner's login. This page is shown once.")
            ).classes("text-grey-8")
            self.fields: dict[str, ui.input | ui.select] = {}
            _heading(_("Your business"))
            self._input("business_name", autocomplete="organization")
            with _grid():
                for key, autocomplete in (
                    ("address.line1", "address-line1"),
                    ("address.line2", "address-line2"),
                    ("address.city", "address-level2"),
                    ("address.region", "address-level1"),
                    ("address.postal_code", "postal-code"),
                ):
                    self._input(key, autocomplete=autocomplete)
                self.country = self._select("address.country", country_options(), country or None)
                self.country.on_value_change(self._country_changed)
            with _grid():
                self._input("email", autocomplete="email", maxlength=254)
                self._input("phone", autocomplete="tel", maxlength=50)
                self._input("website", autocomplete="url")
                # Typed, with the ISO codes suggested: faster than a list of 160, and checked by the service.
                self.currency = self._input("currency", maxlength=3)
                self.currency.set_autocomplete([code for code, _name in currencies()])
                self.currency.value = self.auto_currency
                self.currency_name = ui.label().classes("text-xs text-grey-7 self-center")
                self.currency.on_value_change(self._currency_changed)
                self._currency_changed()
            _heading(_("The owner's login"))
            with _grid():
                self.owner_name = self._input("owner_name", autocomplete="name")
                self.owner_email = self._input("owner_email", autocomplete="username", maxlength=254)
            self.passwords = NewPasswordFields(email="", name="")
            self.fields["password"], self.fields["confirm"] = self.passwords.new, self.passwords.confirm
            self.owner_name.on_value_change(self._owner_changed)
            self.owner_email.on_value_change(self._owner_changed)
            self.notice = ui.column().classes("w-full gap-1").mark("setup-errors")
            self.submit_button = ui.button(_("Set up the portal"), on_click=self.submit)
            self.submit_button.props("unelevated no-caps size=lg").classes("w-full").mark("setup-submit")

    def _input(self, key: str, *, autocomplete: str = "off", maxlength: int = 200) -> ui.input:
        optional = key in ("address.line2", "phone", "website")
        label = (
            _("{label} (optional)").format(label=_(FIELD_LABELS[key])) if optional else _(FIELD_LABELS[key])
        )
        field = ui.input(label).props(f"outlined dense autocomplete={autocomplete} maxlength={maxlength}")
        field.classes("w-full").mark(f"setup-{key.replace('.', '-').replace('_', '-')}")
        self.fields[key] = field
        return field

    def _select(self, key: str, options: dict[str, str], value: str | None) -> ui.select:
        field = ui.select(options, label=_(FIELD_LABELS[key]), value=value, with_input=True)
        field.props("outlined dense").classes("w-full").mark(f"setup-{key.replace('.', '-')}")
        self.fields[key] = field
        return field

    def _country_changed(self) -> None:
        """Suggest the country's currency, unless a currency was chosen by hand."""
        if self.currency.value == self.auto_currency:
            self.auto_currency = default_currency(str(self.country.value or ""))
            self.currency.value = self.auto_currency

    def _currency_changed(self) -> None:
        code = str(self.currency.value or "").strip().upper()
        self.currency_name.text = dict(currencies()).get(code, "")

    def _owner_changed(self) -> None:
        self.passwords.email = str(self.owner_email.value or "")
        self.passwords.name = str(self.owner_name.value or "")
        self.passwords.refresh()

    def form(self) -> SetupForm:
        def value(key: str) -> str:
            return str(self.fields[key].value or "")

        password, confirm = self.passwords.values
        address = AddressInput(
            *(
                value(f"address.{name}")
                for name in ("line1", "line2", "city", "region", "postal_code", "country")
            )
        )
        return SetupForm(
            business_name=value("business_name"),
            address=address,
            email=value("email"),
            owner_name=value("owner_name"),
            owner_email=value("owner_email"),
            password=password,
            confirm=confirm,
            phone=value("phone"),
            website=value("website"),
            currency=value("currency"),
            locale=self.locale,
        )

    async def submit(self) -> None:
        current = self.current
        self.submit_button.props("loading")
        try:
            done = await io_bound(
                set_up_business,
                current.db,
                self.form(),
                clock=current.clock,
                rounds=current.settings.bcrypt_rounds,
                ip_address=self.ip_address,
            )
        except InvalidDetails as error:
            self._show(error.errors, human_message(error))
            return
        except AlreadySetUp:
            self._show({}, ALREADY_SET_UP_MESSAGE)
            return
        except DomainError as error:
            self._show({}, human_message(error))
            return
        finally:
            self.submit_button.props(remove="loading")
        ui.navigate.to(f"/admin/login?{urlencode({'welcome': '1', 'email': done.owner_email})}")

    def _show(self, errors: dict[str, str], summary: str) -> None:
        for key, field in self.fields.items():
            message = errors.get(key, "")
            show_field_error(field, message)
        self.notice.clear()
        with self.notice:
            banner("negative", summary)
            for key, message in errors.items():
                ui.label(
                    _("{field}: {message}").format(field=_(FIELD_LABELS.get(key, key)), message=message)
                ).classes("text-sm text-negative")


def _heading(text: str) -> None:
    section_heading(text, "text-lg font-medium text-grey-9 mt-2")


def _grid() -> ui.element:
    return ui.element("div").classes("grid grid-cols-1 sm:grid-cols-2 gap-2 w-full")
