"""Card Details on Home: the saved cards and accounts, with Edit, Remove and Make default."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components import markup
from components.auto_pay import auto_pay_section
from components.countries import country_options
from components.dialog_host import DialogHost
from components.headings import dialog_title
from components.markup import Markup
from components.offload import gateway_bound
from services.auto_pay import AutoPayView
from services.card_input import read_expiry
from services.dashboard import country_name
from services.errors import DomainError, human_message
from services.gateways.base import BillingAddress, MethodUpdate
from services.i18n import N_, _
from services.portal import Portal
from services.principal import Principal
from services.saved_methods import SavedMethodView, make_default, remove_saved_method, update_saved_card

NO_METHODS = N_(
    "No saved cards or bank accounts. Tick “Save this card for future payments” when you pay "
    "to keep one here."
)


Done = Callable[[], Awaitable[None]]


def card_details(
    portal: Portal,
    principal: Principal,
    methods: tuple[SavedMethodView, ...],
    dialogs: DialogHost,
    *,
    on_done: Done,
    auto_pay: AutoPayView | None = None,
    ip_address: str = "",
    locale: str = "en_US",
) -> None:
    """The saved methods, and auto-pay (``components.auto_pay``) when ``auto_pay`` is given."""
    with ui.card().classes("w-full gap-3 p-5").props("flat bordered data-testid=card-details"):
        heading = markup.row(
            "items-center gap-2",
            markup.icon("credit_card", "text-xl text-primary"),
            markup.heading(_("Card Details"), "text-lg font-semibold"),
        )
        if not methods:
            Markup(
                heading,
                markup.text(_(NO_METHODS), "text-sm text-grey-7"),
                texts=[_("Card Details"), _(NO_METHODS)],
            )
            return
        Markup(heading, texts=[_("Card Details")])
        for index, method in enumerate(methods):
            if index:
                ui.separator()
            on_auto_pay = auto_pay is not None and auto_pay.status.method_public_id == method.public_id
            _method_row(portal, principal, method, dialogs, on_done, on_auto_pay=on_auto_pay)
        if auto_pay is not None:
            ui.separator()
            auto_pay_section(
                portal,
                principal,
                methods,
                auto_pay,
                dialogs,
                ip_address=ip_address,
                locale=locale,
                on_done=on_done,
            )


def _method_row(
    portal: Portal,
    principal: Principal,
    method: SavedMethodView,
    dialogs: DialogHost,
    on_done: Done,
    *,
    on_auto_pay: bool = False,
) -> None:
    with ui.row().classes("w-full items-start gap-3").mark(f"saved-{method.last4}"):
        ui.icon("credit_card" if method.is_card else "account_balance").classes("text-2xl text-grey-7 mt-1")
        with ui.column().classes("gap-0 flex-1 min-w-0"):
            with ui.row().classes("items-center gap-2"):
                ui.label(method.label).classes("font-medium")
                if method.is_default:
                    ui.badge(_("Default"), color="primary").props("outline")
            place = ", ".join(
                part
                for part in (method.billing_address.city, country_name(method.billing_address.country))
                if part
            )
            details = " · ".join(part for part in (method.holder_name, place) if part)
            if details:
                ui.label(details).classes("text-sm text-grey-7 break-words")
        with ui.row().classes("gap-1 max-sm:w-full max-sm:justify-end"):
            if method.is_card:
                ui.button(
                    _("Edit"),
                    on_click=lambda: dialogs.show(lambda: EditCardDialog(portal, principal, method, on_done)),
                ).props("flat dense no-caps").mark("card-edit")
            if not method.is_default:
                ui.button(
                    _("Make default"), on_click=lambda: _make_default(portal, principal, method, on_done)
                ).props("flat dense no-caps")
            ui.button(
                _("Remove"),
                on_click=lambda: dialogs.show(
                    lambda: _confirm_remove(portal, principal, method, on_done, on_auto_pay=on_auto_pay)
                ),
            ).props("flat dense no-caps color=negative")


async def _make_default(portal: Portal, principal: Principal, method: SavedMethodView, on_done: Done) -> None:
    try:
        await gateway_bound(
            make_default, portal.db, portal.gateway, principal, method.public_id, clock=portal.clock
        )
    except DomainError as error:
        ui.notify(human_message(error), type="negative")
        return
    ui.notify(_("{label} is now your default.").format(label=method.label), type="positive")
    await on_done()


def _confirm_remove(
    portal: Portal, principal: Principal, method: SavedMethodView, on_done: Done, *, on_auto_pay: bool = False
) -> ui.dialog:
    async def remove() -> None:
        button.props("loading disable")
        try:
            await gateway_bound(
                remove_saved_method,
                portal.db,
                portal.gateway,
                principal,
                method.public_id,
                clock=portal.clock,
            )
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            return
        finally:
            button.props(remove="loading disable")
        dialog.close()
        ui.notify(_("{label} was removed.").format(label=method.label), type="positive")
        await on_done()

    with ui.dialog() as dialog, ui.card().classes("max-w-md gap-3 p-6"):
        dialog_title(dialog, _("Remove {label}?").format(label=method.label))
        ui.label(
            _("It will no longer be offered for payments. Payments already made are not affected.")
        ).classes("text-sm text-grey-8")
        if on_auto_pay:
            ui.label(_("Auto-pay charges it: removing it turns auto-pay off.")).classes(
                "text-sm text-negative"
            ).mark("remove-auto-pay")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")
            button = ui.button(_("Remove"), on_click=remove).props("unelevated no-caps color=negative")
            button.mark("remove-confirm")
    return dialog


class EditCardDialog:
    """Expiry, name and billing address; never the number (a new number is a new card)."""

    def __init__(self, portal: Portal, principal: Principal, method: SavedMethodView, on_done: Done) -> None:
        self.portal, self.principal, self.method, self.on_done = portal, principal, method, on_done
        address = method.billing_address
        expiry = f"{method.exp_month:02d}/{(method.exp_year or 0) % 100:02d}" if method.exp_month else ""
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            dialog_title(
                self.dialog, _("Edit {brand} •••• {last4}").format(brand=method.brand, last4=method.last4)
            )
            self.expiry = _input(_("Expiry (MM/YY)"), expiry, "cc-exp").mark("edit-expiry")
            self.name = _input(_("Name on card"), method.holder_name, "cc-name").mark("edit-name")
            self.line1 = _input(_("Billing address"), address.line1, "address-line1")
            self.line2 = _input(_("Address line 2"), address.line2, "address-line2")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.city = _input(_("City"), address.city, "address-level2").classes("flex-1")
                self.region = _input(_("State or region"), address.region, "address-level1").classes("flex-1")
            self.postal_code = _input(_("Postal code"), address.postal_code, "postal-code")
            self.country = (
                ui.select(
                    country_options(), label=_("Country"), value=address.country or None, with_input=True
                )
                .props("outlined dense")
                .classes("w-full")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("edit-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.save = (
                    ui.button(_("Save"), on_click=self.submit).props("unelevated no-caps").mark("edit-save")
                )

    async def submit(self) -> None:
        month, year = read_expiry(self.expiry.value or "")
        name = (self.name.value or "").strip()
        if not name:
            self.error.text = _("Enter the name on the card.")
            return
        change = MethodUpdate(
            month,
            year,
            name,
            BillingAddress(
                line1=(self.line1.value or "").strip(),
                line2=(self.line2.value or "").strip(),
                city=(self.city.value or "").strip(),
                region=(self.region.value or "").strip(),
                postal_code=(self.postal_code.value or "").strip(),
                country=self.country.value or "",
            ),
        )
        self.error.text = ""
        self.save.props("loading disable")
        try:
            await gateway_bound(
                update_saved_card,
                self.portal.db,
                self.portal.gateway,
                self.principal,
                self.method.public_id,
                change,
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.save.props(remove="loading disable")
        self.dialog.close()
        ui.notify(_("Card details saved."), type="positive")
        await self.on_done()


def _input(label: str, value: str, autocomplete: str) -> ui.input:
    return ui.input(label, value=value).props(f"outlined dense autocomplete={autocomplete}").classes("w-full")
