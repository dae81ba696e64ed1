"""Auto-pay in Card Details: the switch, the consent the customer reads and agrees to before it is turned
on, and which invoices it will charge, when, with which card or account (``services.auto_pay``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.dialog_host import DialogHost
from components.headings import dialog_title
from components.offload import io_bound
from services.auto_pay import AutoPayView, consent_text, turn_off_auto_pay, turn_on_auto_pay
from services.dates import format_day
from services.errors import DomainError, human_message
from services.i18n import _
from services.portal import Portal
from services.principal import Principal
from services.saved_methods import SavedMethodView

Done = Callable[[], Awaitable[None]]


def auto_pay_section(
    portal: Portal,
    principal: Principal,
    methods: tuple[SavedMethodView, ...],
    view: AutoPayView,
    dialogs: DialogHost,
    *,
    ip_address: str,
    locale: str,
    on_done: Done,
) -> None:
    """The switch with what it means now: off, or on with a method since a day, and the charges to come."""
    state = {"drawn": view.status.enabled}
    with ui.column().classes("w-full gap-1").mark("auto-pay"):
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            ui.icon("autorenew").classes("text-2xl text-grey-7")
            ui.label(_("Auto-pay")).classes("font-medium flex-1")
            switch = (
                ui.switch(value=view.status.enabled)
                .props(f'aria-label="{_("Auto-pay")}"')
                .mark("auto-pay-switch")
            )
        if view.status.enabled and view.status.consented_at is not None:
            ui.label(
                _("On since {day}: each new invoice is charged to your {method} on its due date.").format(
                    day=format_day(view.status.consented_at, locale), method=view.status.method_text
                )
            ).classes("text-sm text-grey-8").mark("auto-pay-state")
            for charge in view.charges:
                ui.label(
                    _("Invoice {number} will be charged automatically on {day} with your {method}.").format(
                        number=charge.invoice_number,
                        day=format_day(charge.on, locale),
                        method=charge.method_text,
                    )
                ).classes("text-sm text-grey-8").mark("auto-pay-charge")
        else:
            ui.label(
                _("Turn it on to have each new invoice charged on its due date to a saved card or account.")
            ).classes("text-sm text-grey-8").mark("auto-pay-state")

    async def changed() -> None:
        wanted = bool(switch.value)
        if wanted == state["drawn"]:
            return  # set back by the page itself
        if wanted:
            switch.value = False
            state["drawn"] = False
            await dialogs.show_loaded(
                lambda: ConsentDialog.make(portal, principal, methods, ip_address, on_done)
            )
            return
        try:
            await io_bound(turn_off_auto_pay, portal.db, principal, ip_address=ip_address, clock=portal.clock)
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            return
        ui.notify(_("Auto-pay is off: nothing will be charged automatically."), type="positive")
        await on_done()

    switch.on_value_change(changed)


class ConsentDialog:
    """The method to charge and, word for word, the consent that is kept when the customer agrees."""

    def __init__(
        self,
        portal: Portal,
        principal: Principal,
        methods: tuple[SavedMethodView, ...],
        ip_address: str,
        on_done: Done,
        first_text: str,
    ) -> None:
        self.portal, self.principal, self.ip_address, self.on_done = portal, principal, ip_address, on_done
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6"):
            dialog_title(self.dialog, _("Turn on auto-pay"))
            self.method = (
                ui.radio({method.public_id: method.label for method in methods}, value=methods[0].public_id)
                .props("dense")
                .mark("auto-pay-method")
            )
            self.text = ui.label(first_text).classes("text-sm bg-grey-2 rounded p-3").mark("auto-pay-consent")
            self.error = (
                ui.label().classes("text-sm text-negative").props("role=alert").mark("auto-pay-error")
            )
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.agree = (
                    ui.button(_("I agree, turn on auto-pay"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("auto-pay-agree")
                )
        self.method.on_value_change(self.method_changed)

    @classmethod
    async def make(
        cls,
        portal: Portal,
        principal: Principal,
        methods: tuple[SavedMethodView, ...],
        ip_address: str,
        on_done: Done,
    ) -> ConsentDialog:
        text = await io_bound(consent_text, portal.db, principal, methods[0].public_id, portal.gateway.name)
        return cls(portal, principal, methods, ip_address, on_done, text)

    async def method_changed(self) -> None:
        try:
            self.text.text = await io_bound(
                consent_text, self.portal.db, self.principal, str(self.method.value), self.portal.gateway.name
            )
        except DomainError as error:
            self.error.text = human_message(error)

    async def submit(self) -> None:
        self.error.text = ""
        self.agree.props("loading disable")
        try:
            await io_bound(
                turn_on_auto_pay,
                self.portal.db,
                self.principal,
                str(self.method.value),
                gateway_name=self.portal.gateway.name,
                shown_text=self.text.text,
                ip_address=self.ip_address,
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = " ".join(getattr(error, "errors", {}).values()) or human_message(error)
            return
        finally:
            self.agree.props(remove="loading disable")
        self.dialog.close()
        ui.notify(_("Auto-pay is on."), type="positive")
        await self.on_done()
