"""Settings > Payments: which payment methods customers may use, how long a pay link works, how a failed
automatic payment is retried, and the gateway."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.auto_pay_retries import AutoPayRetriesCard
from components.banner import banner
from components.field_errors import show_field_error
from components.offload import gateway_bound, io_bound
from components.settings_nav import owner_of, settings_page
from services import portal
from services.auto_pay import get_retry_settings
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _, ngettext
from services.pay_links import pay_link_days, set_pay_link_days
from services.payment_settings import (
    GATEWAYS,
    SANDBOX,
    STRIPE,
    AcceptedMethods,
    GatewayChange,
    PaymentSettings,
    check_connection,
    gateway_label,
    get_payment_settings,
    save_gateway,
    update_payment_methods,
)
from services.settings import SettingsError
from services.staff_auth import StaffPrincipal

KEY_FIELDS = (
    ("secret_key", N_("Secret key (sk_… or rk_…)"), "stripe-secret-key"),
    ("publishable_key", N_("Publishable key (pk_…)"), "stripe-publishable-key"),
    ("webhook_secret", N_("Webhook signing secret (whsec_…)"), "stripe-webhook-secret"),
)


@ui.page("/admin/settings/payments")
async def settings_payments_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/payments") as content:
        if content is None:
            return
        current = portal.current()
        staff = owner_of(request)
        settings = await io_bound(get_payment_settings, current.db, staff.organization_id, current.settings)
        days = await io_bound(pay_link_days, current.db, staff.organization_id)
        MethodsCard(current, staff, settings.methods)
        PayLinksCard(current, staff, days)
        AutoPayRetriesCard(
            current, staff, await io_bound(get_retry_settings, current.db, staff.organization_id)
        )
        GatewayCard(current, staff, settings)


class MethodsCard:
    def __init__(self, current: portal.Portal, staff: StaffPrincipal, methods: AcceptedMethods) -> None:
        self.current, self.staff = current, staff
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Payment methods")).classes("text-lg font-medium")
            ui.label(_("What customers may pay with in the portal. At least one must stay on.")).classes(
                "text-sm text-grey-7"
            )
            self.cards = ui.checkbox(_("Cards"), value=methods.cards).mark("accept-cards")
            self.bank_debits = ui.checkbox(
                _("Bank debits (with Stripe: SEPA Direct Debit, for invoices in euros)"),
                value=methods.bank_debits,
            ).mark("accept-bank-debits")
            self.notice = ui.column().classes("w-full gap-1").mark("methods-notice")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("methods-save")

    async def save(self) -> None:
        self.notice.clear()
        methods = AcceptedMethods(bool(self.cards.value), bool(self.bank_debits.value))
        try:
            await io_bound(
                update_payment_methods,
                self.current.db,
                self.staff.organization_id,
                methods,
                staff_user_id=self.staff.staff_user_id,
                clock=self.current.clock,
            )
        except InvalidDetails as error:
            with self.notice:
                banner("negative", error.errors.get("methods", human_message(error)))
            return
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            return
        with self.notice:
            banner("positive", _("The payment methods are saved. The Pay page offers only these."))


class PayLinksCard:
    """How many days the pay link in an invoice e-mail works, for links sent from now on."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, days: int) -> None:
        self.current, self.staff = current, staff
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Pay links")).classes("text-lg font-medium")
            ui.label(
                _(
                    "Every invoice e-mail carries a link that opens that invoice to pay it without signing "
                    "in. It stops working when the invoice is paid or voided, when you revoke it on the "
                    "invoice, or after this many days. A change applies to links sent from now on."
                )
            ).classes("text-sm text-grey-7")
            self.days = (
                ui.number(_("Days a pay link works"), value=days, step=1)
                .props("outlined dense inputmode=numeric")
                .classes("w-56")
                .mark("pay-link-days")
            )
            self.notice = ui.column().classes("w-full gap-1").mark("pay-link-days-notice")
            with ui.row().classes("w-full justify-end"):
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("pay-link-days-save")

    async def save(self) -> None:
        self.notice.clear()
        typed = self.days.value
        # Anything but a whole number (empty, 2.5) is refused by the service with the same sentence.
        days = int(typed) if typed is not None and float(typed).is_integer() else 0
        try:
            saved = await io_bound(
                set_pay_link_days, self.current.db, self.staff, days, clock=self.current.clock
            )
        except InvalidDetails as error:
            show_field_error(self.days, error.errors.get("pay_link_days", human_message(error)))
            return
        except DomainError as error:
            with self.notice:
                banner("negative", human_message(error))
            return
        show_field_error(self.days, "")
        with self.notice:
            banner(
                "positive",
                ngettext(
                    "Saved. Pay links sent from now on work for {count} day.",
                    "Saved. Pay links sent from now on work for {count} days.",
                    saved,
                ).format(count=saved),
            )


class GatewayCard:
    """Sandbox or Stripe. Keys are never shown back: an empty field keeps the stored key."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, settings: PaymentSettings) -> None:
        self.current, self.staff = current, staff
        self.keys: dict[str, ui.input] = {}
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Payment gateway")).classes("text-lg font-medium")
            self.running = ui.label().classes("text-sm text-grey-8").mark("gateway-running")
            gateways = {gateway: gateway_label(gateway) for gateway in GATEWAYS}
            self.choice = ui.radio(gateways, value=settings.gateway).props("inline color=primary")
            self.choice.mark("gateway-choice")
            stripe_fields = ui.column().classes("w-full gap-2")
            stripe_fields.bind_visibility_from(self.choice, "value", value=STRIPE)
            with stripe_fields:
                ui.label(
                    _(
                        "From the Stripe dashboard: Developers > API keys, and the signing secret of the "
                        "webhook endpoint that points at /webhooks/stripe on this portal."
                    )
                ).classes("text-sm text-grey-7")
                for key, label, marker in KEY_FIELDS:
                    field = ui.input(_(label), password=True, password_toggle_button=True)
                    field.props("outlined dense autocomplete=off maxlength=255").classes("w-full").mark(
                        marker
                    )
                    self.keys[key] = field
            self.result = ui.row().classes("w-full").mark("gateway-check-result")
            with ui.row().classes("w-full justify-end gap-2"):
                self.check_button = ui.button(
                    _("Check connection"), icon="wifi_tethering", on_click=self.check
                )
                self.check_button.props("outline no-caps").mark("gateway-check")
                self.save_button = ui.button(_("Save"), on_click=self.save).props("unelevated no-caps")
                self.save_button.mark("gateway-save")
        self.show(settings)

    def show(self, settings: PaymentSettings) -> None:
        running = gateway_label(SANDBOX if self.current.gateway.is_sandbox else STRIPE)
        self.running.text = (
            _("Payments now go through: {gateway} (from the server's environment settings).")
            if settings.from_environment
            else _("Payments now go through: {gateway}.")
        ).format(gateway=running)
        hints = {
            "secret_key": settings.secret_key_hint,
            "publishable_key": settings.publishable_key_hint,
            "webhook_secret": settings.webhook_secret_hint,
        }
        for key, field in self.keys.items():
            field.value = ""
            hint = hints[key]
            field.props["hint"] = (
                _("Stored: {hint}. Leave empty to keep it.").format(hint=hint) if hint else ""
            )
            show_field_error(field, "")

    def change(self) -> GatewayChange:
        return GatewayChange(
            str(self.choice.value or ""),
            *(str(self.keys[key].value or "") for key, _label, _hint in KEY_FIELDS),
        )

    def _show_errors(self, errors: dict[str, str]) -> None:
        for key, field in self.keys.items():
            message = errors.get(key, "")
            show_field_error(field, message)
        self.result.clear()
        if errors:
            with self.result:
                banner("negative", errors.get("gateway", "Please correct the fields marked in red."))

    async def check(self) -> None:
        """Ask the gateway with the keys as entered; nothing is saved."""
        self.result.clear()
        self.check_button.props("loading")
        try:
            answer = await gateway_bound(
                check_connection,
                self.current.db,
                self.staff.organization_id,
                self.change(),
                self.current.settings,
            )
        except InvalidDetails as error:
            self._show_errors(error.errors)
            return
        finally:
            self.check_button.props(remove="loading")
        self._show_errors({})
        with self.result:
            banner("positive" if answer.ok else "negative", answer.message)

    async def save(self) -> None:
        current = self.current
        self.result.clear()
        self.save_button.props("loading")
        try:
            chosen = await io_bound(
                save_gateway,
                current.db,
                self.staff.organization_id,
                self.change(),
                current.settings,
                staff_user_id=self.staff.staff_user_id,
                clock=current.clock,
                events=current.events,  # every instance loads the gateway again
            )
            portal.switch_gateway(current, chosen)
        except InvalidDetails as error:
            self._show_errors(error.errors)
            return
        except (DomainError, SettingsError) as error:
            self.result.clear()
            with self.result:
                banner("negative", human_message(error) if isinstance(error, DomainError) else str(error))
            return
        finally:
            self.save_button.props(remove="loading")
        self.current = portal.current()
        settings = await io_bound(
            get_payment_settings, current.db, self.staff.organization_id, current.settings
        )
        self.show(settings)
        with self.result:
            banner(
                "positive",
                _("Saved. Payments now go through {gateway}.").format(
                    gateway=gateway_label(settings.gateway)
                ),
            )
