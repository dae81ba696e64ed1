"""The payment screen: what is being paid, how (saved method, new card, new bank account), and Pay."""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from nicegui import ui

from components.card_details import read_expiry
from components.countries import COUNTRIES
from components.frame import frame
from components.live import announce_documents
from components.offload import gateway_bound, io_bound
from components.stripe_card import StripeCardField
from services import portal
from services.amount_input import amount_text, read_amount
from services.branding import get_branding
from services.errors import DomainError, NotFound, PaymentInDoubt, human_message
from services.gateways.base import (
    BankAccountDetails,
    BillingAddress,
    CardDetails,
    ChargeRequest,
    ChargeStatus,
)
from services.gateways.sandbox import SANDBOX_NOTICE
from services.gateways.stripe_gateway import StripeGateway
from services.gateways.switch import unwrap
from services.i18n import N_, _
from services.i18n.terms import term
from services.money import Money, format_money
from services.online_payments import (
    PaymentOutcome,
    PaymentPlan,
    complete_action,
    pay,
    plan_pay_all,
    plan_pay_invoice,
)
from services.payment_settings import AcceptedMethods, accepted_methods
from services.principal import Principal
from services.saved_methods import gateway_customer, list_saved_methods

log = logging.getLogger(__name__)
NEW_CARD = "new-card"
NEW_ACCOUNT = "new-account"
MANDATE = N_(
    "By accepting this mandate you authorise {business} to send instructions to your bank to debit your "
    "account, and your bank to debit your account in accordance with those instructions. You are "
    "entitled to a refund from your bank within eight weeks of the date your account was debited."
)


@ui.page("/pay")
async def pay_page(request: Request, invoice: str = "") -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    try:
        plan = await (
            io_bound(plan_pay_invoice, current.db, principal, invoice, clock=current.clock)
            if invoice
            else io_bound(plan_pay_all, current.db, principal, clock=current.clock)
        )
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This invoice does not exist.")) from None
    except DomainError as error:
        plan = None
        problem = human_message(error)
    branding = await io_bound(get_branding, current.db)
    saved = await io_bound(list_saved_methods, current.db, principal, current.gateway.name)
    accepted = await io_bound(accepted_methods, current.db, principal.organization_id)
    with frame(_("Pay"), branding=branding, principal=principal, active="/invoices"):
        if current.gateway.is_sandbox:
            with ui.row().classes("w-full items-center gap-2 rounded bg-amber-1 text-brown-10 p-3"):
                ui.icon("science")
                ui.label(term(SANDBOX_NOTICE)).classes("font-medium")
        if plan is None or not plan.lines:
            ui.label(problem if plan is None else _nothing_to_pay(plan, branding.locale)).classes("text-lg")
            ui.link(_("Back to Invoices"), "/invoices")
            return
        PaymentForm(current, principal, plan, branding.name, branding.locale, saved, accepted)


class PaymentForm:
    def __init__(
        self,
        current: portal.Portal,
        principal: Principal,
        plan: PaymentPlan,
        business: str,
        locale: str,
        saved: tuple,
        accepted: AcceptedMethods,
    ) -> None:
        self.current = current
        self.accepted = accepted
        self.principal = principal
        self.plan = plan
        self.locale = locale
        self.business = business
        self.busy = False
        self.attempt: PaymentOutcome | None = None  # an attempt the gateway may be charging
        self.stripe_card: StripeCardField | None = None
        self.root = ui.column().classes("w-full gap-6")
        with self.root:
            self.build(saved)
        if self.stripe_card is not None:
            ui.timer(0, self.stripe_card.mount, once=True)  # runs once the browser is connected

    def build(self, saved: tuple) -> None:
        plan = self.plan
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("What you are paying")).classes("text-lg font-semibold")
            for line in plan.lines:
                with ui.row().classes("w-full justify-between items-center no-wrap"):
                    with ui.column().classes("gap-0"):
                        ui.label(line.number).classes("font-medium")
                        ui.label(
                            _("Balance due {amount}").format(amount=self.money(line.balance_due))
                        ).classes("text-xs text-grey-7")
                    ui.label(self.money(line.amount)).classes("font-medium tabular-nums")
            ui.separator()
            with ui.row().classes("w-full justify-between no-wrap"):
                ui.label(_("Total")).classes("font-semibold")
                ui.label(self.money(plan.total)).classes("font-semibold tabular-nums")
            self.amount = None
            if len(plan.lines) == 1:
                line = plan.lines[0]
                self.amount = (
                    ui.input(
                        _("Amount to pay"),
                        value=amount_text(line.amount, self.locale),
                        on_change=self.amount_changed,
                    )
                    .props("outlined dense inputmode=decimal")
                    .classes("w-48")
                    .mark("pay-amount")
                )
                ui.label(
                    _("You can pay less than the balance; never more than {amount}.").format(
                        amount=self.money(line.balance_due)
                    )
                ).classes("text-xs text-grey-7")
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            ui.label(_("Payment method")).classes("text-lg font-semibold")
            # Only the methods the business accepts (Settings > Payments); ``pay`` refuses the others too.
            accepted = self.accepted
            bank_debits = accepted.bank_debits and self.current.gateway.accepts_bank_debits(
                plan.total.currency
            )
            options = {
                method.gateway_method_id: method.label for method in saved if accepted.allows(method.kind)
            }
            if accepted.cards:
                options[NEW_CARD] = _("New card")
            if bank_debits:
                options[NEW_ACCOUNT] = _("New bank account")
            if not options:
                ui.label(
                    _(
                        "{business} does not take online payments in {currency} at the moment. Please "
                        "contact them to pay another way."
                    ).format(business=self.business, currency=plan.total.currency)
                ).classes("text-grey-8").mark("pay-unavailable")
                return
            self.method = (
                ui.radio(options, value=next(iter(options))).props("color=primary").mark("pay-method")
            )
            if accepted.cards:
                with (
                    ui.column()
                    .classes("w-full gap-2")
                    .bind_visibility_from(self.method, "value", value=NEW_CARD)
                ):
                    self.card_form()
            if bank_debits:
                with (
                    ui.column()
                    .classes("w-full gap-2")
                    .bind_visibility_from(self.method, "value", value=NEW_ACCOUNT)
                ):
                    self.account_form()
            self.error = ui.label().classes("text-negative text-sm").mark("pay-error")
            self.button = (
                ui.button(_("Pay {amount}").format(amount=self.money(plan.total)), on_click=self.submit)
                .props("unelevated no-caps size=lg")
                .mark("pay-submit")
            )

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    def amount_changed(self) -> None:
        """The Pay button always names the amount that will be charged, read as the locale writes it;
        text that cannot be read without guessing says why, and the button names no amount."""
        if self.amount is None or not hasattr(self, "button"):
            return
        try:
            amount: Money | None = read_amount(self.amount.value or "", self.plan.total.currency, self.locale)
            self.error.text = ""
        except DomainError as error:
            amount, self.error.text = None, human_message(error, locale=self.locale)
        self.button.text = (
            _("Pay {amount}").format(amount=self.money(amount)) if amount and amount.minor > 0 else _("Pay")
        )

    def card_form(self) -> None:
        gateway = unwrap(self.current.gateway)  # the gateway running now, behind the portal's switch
        if isinstance(gateway, StripeGateway):
            self.stripe_card = StripeCardField(gateway.publishable_key, gateway.js_url)
        else:
            self.card_number = _field(_("Card number"), "cc-number", mark="card-number").props(
                "inputmode=numeric"
            )
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.expiry = _field(_("Expiry (MM/YY)"), "cc-exp", mark="card-expiry").classes("flex-1")
                self.cvc = (
                    _field(_("CVV"), "cc-csc", mark="card-cvc").props("inputmode=numeric").classes("flex-1")
                )
        self.card_name = _field(_("Name on card"), "cc-name", mark="card-name")
        self.address = _field(_("Billing address"), "street-address")
        with ui.row().classes("w-full gap-2 no-wrap"):
            self.city = _field(_("City"), "address-level2").classes("flex-1")
            self.postal_code = _field(_("Postal code"), "postal-code").classes("flex-1")
        self.country = (
            ui.select(COUNTRIES, label=_("Country"), with_input=True)
            .props("outlined dense")
            .classes("w-full")
        )
        self.save_card = ui.checkbox(_("Save this card for future payments"))

    def account_form(self) -> None:
        self.holder = _field(_("Account holder"), "name", mark="account-holder")
        self.iban = _field(_("IBAN"), "off", mark="account-iban")
        self.email = _field(_("E-mail"), "email").props("type=email")
        self.email.value = self.principal.email
        ui.label(_(MANDATE).format(business=self.business)).classes("text-xs text-grey-8")
        self.mandate = ui.checkbox(_("I accept the direct debit mandate")).mark("account-mandate")
        self.save_account = ui.checkbox(_("Use this account for future transactions"))

    def billing_address(self) -> BillingAddress:
        return BillingAddress(
            line1=(self.address.value or "").strip(),
            city=(self.city.value or "").strip(),
            postal_code=(self.postal_code.value or "").strip(),
            country=self.country.value or "",
        )

    async def browser_card(self) -> ChargeRequest | None:
        """Stripe: the card typed into Stripe's element becomes a PaymentMethod; None if it was refused."""
        assert self.stripe_card is not None  # noqa: S101 - only called with the Stripe gateway
        name = (self.card_name.value or "").strip()
        if not name:
            self.error.text = _("Enter the name on the card.")
            return None
        current = self.current
        customer = await gateway_bound(
            gateway_customer, current.db, current.gateway, self.principal, clock=current.clock
        )
        setup = await gateway_bound(current.gateway.start_card_setup, customer)
        address = self.billing_address()
        fields = {
            "line1": address.line1,
            "city": address.city,
            "postal_code": address.postal_code,
            "country": address.country,
        }
        billing = {"name": name, "address": {key: value for key, value in fields.items() if value}}
        answer = await self.stripe_card.confirm_setup(setup.client_secret, billing)
        if answer.error:
            self.error.text = answer.error
            return None
        return ChargeRequest(
            "",
            0,
            "",
            "",
            payment_method_id=answer.payment_method_id,
            customer_id=customer,
            save_method=bool(self.save_card.value),
        )

    async def charge(self) -> PaymentOutcome | None:
        """Plan again (an invoice may have changed since the page was drawn), charge, finish 3-D Secure."""
        current, plan = self.current, self.plan
        if self.amount is not None:
            # Text that is not an amount here raises InvalidNumber, shown by ``submit``: nothing is charged.
            amount = read_amount(self.amount.value or "", plan.total.currency, self.locale)
            plan = await io_bound(
                plan_pay_invoice,
                current.db,
                self.principal,
                plan.lines[0].invoice_public_id,
                amount,
                clock=current.clock,
            )
        if self.method.value == NEW_CARD and self.stripe_card is not None:
            request = await self.browser_card()
            if request is None:
                return None
        else:
            request = self.charge_request()
        # Its database steps too: a gateway slow to answer holds gateway threads only (components.offload).
        outcome = await gateway_bound(
            pay, current.db, current.gateway, self.principal, plan, request, clock=current.clock
        )
        if outcome.status == ChargeStatus.REQUIRES_ACTION and self.stripe_card is not None:
            self.attempt = outcome  # from here on the charge may go through: never say it did not
            await self.stripe_card.authenticate(outcome.client_secret)
            outcome = await gateway_bound(
                complete_action,
                current.db,
                current.gateway,
                self.principal,
                outcome.payment_public_id,
                clock=current.clock,
            )
        return outcome

    def charge_request(self) -> ChargeRequest:
        choice = self.method.value
        if choice == NEW_CARD:
            month, year = read_expiry(self.expiry.value or "")
            card = CardDetails(
                number=self.card_number.value or "",
                exp_month=month,
                exp_year=year,
                cvc=(self.cvc.value or "").strip(),
                holder_name=self.card_name.value or "",
                billing_address=self.billing_address(),
            )
            return ChargeRequest("", 0, "", "", card=card, save_method=bool(self.save_card.value))
        if choice == NEW_ACCOUNT:
            account = BankAccountDetails(
                holder_name=self.holder.value or "",
                iban=self.iban.value or "",
                email=self.email.value or "",
                mandate_accepted=bool(self.mandate.value),
            )
            return ChargeRequest(
                "", 0, "", "", bank_account=account, save_method=bool(self.save_account.value)
            )
        return ChargeRequest("", 0, "", "", saved_method_id=str(choice))

    async def submit(self) -> None:
        if self.busy:  # a second click while the first is at work pays nothing more
            return
        self.busy = True
        self.error.text = ""
        self.button.props("loading")
        self.button.disable()
        self.attempt = None
        outcome: PaymentOutcome | None = None
        in_doubt: Money | None = None  # a charge whose outcome we do not know yet
        try:
            outcome = await self.charge()
        except PaymentInDoubt as error:
            in_doubt = error.amount
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
        except Exception:
            # ``pay`` answers every fault of its own with a domain error; this is the page's own work
            # (the card form, the 3-D Secure window). Before an attempt exists nothing was charged.
            log.exception("the payment page failed")
            if self.attempt is not None:
                in_doubt = self.attempt.amount
            else:
                self.error.text = _("Something went wrong, so nothing was charged. Please try again.")
        finally:
            self.busy = False
            self.button.props(remove="loading")
            self.button.enable()
        if outcome is not None or in_doubt is not None:  # paid, or invoices reserved while it is in doubt
            current = portal.current()
            await announce_documents(current.events, current.db, self.principal)
        if in_doubt is not None:
            self.show_confirming(in_doubt)
            return
        if outcome is None:
            return
        if outcome.status == "failed":
            self.error.text = term(outcome.failure_message)  # the gateway's words, in the reader's language
            return
        self.root.clear()
        with self.root, ui.card().classes("w-full p-6 gap-3 items-start").props("flat bordered"):
            if outcome.status == "processing":
                ui.icon("schedule").classes("text-4xl text-amber-8")
                ui.label(
                    _("Your bank payment of {amount} is processing.").format(
                        amount=self.money(outcome.amount)
                    )
                ).classes("text-lg")
                ui.label(_("The invoices are marked paid as soon as your bank confirms it.")).classes(
                    "text-grey-8"
                )
            else:
                ui.icon("check_circle").classes("text-4xl text-positive")
                ui.label(
                    _("Thank you! Payment received: {amount}.").format(amount=self.money(outcome.amount))
                ).classes("text-lg")
                ui.label(_("Receipt {receipt_number}").format(receipt_number=outcome.receipt_number)).classes(
                    "text-grey-8"
                )
            _onward_buttons()

    def show_confirming(self, amount: Money) -> None:
        """The outcome is not known yet: say so, and offer no second Pay button."""
        self.root.clear()
        with self.root, ui.card().classes("w-full p-6 gap-3 items-start").props("flat bordered"):
            ui.icon("hourglass_top").classes("text-4xl text-blue-8")
            ui.label(
                _("We are confirming your payment of {amount}.").format(amount=self.money(amount))
            ).classes("text-lg").mark("pay-confirming")
            ui.label(
                _(
                    "You will not be charged twice. We are checking with the payment service and will update "
                    "your invoices and e-mail your receipt as soon as it is confirmed."
                )
            ).classes("text-grey-8")
            _onward_buttons()


def _onward_buttons() -> None:
    with ui.row().classes("gap-2"):
        ui.button(_("Back to Home"), on_click=lambda: ui.navigate.to("/")).props("unelevated no-caps")
        ui.button(_("Invoices"), on_click=lambda: ui.navigate.to("/invoices")).props("flat no-caps")


def _nothing_to_pay(plan: PaymentPlan, locale: str) -> str:
    if plan.on_its_way is not None:
        return (
            f"We are confirming your payment of {format_money(plan.on_its_way, locale)}; you will not be "
            "charged twice. Your invoices are updated as soon as it is confirmed."
        )
    return _("There is nothing to pay. Thank you!")


def _field(label: str, autocomplete: str, *, mark: str = "") -> ui.input:
    field = ui.input(label).props(f"outlined dense autocomplete={autocomplete}").classes("w-full")
    return field.mark(mark) if mark else field
