"""The payment screen: what is being paid, how (saved method, new card, new bank account), and Pay."""

from __future__ import annotations

import logging

from fastapi import HTTPException, Request
from nicegui import ElementFilter, ui

from components.bank_account_entry import BankAccountEntry
from components.branding import business_branding
from components.card_entry import CardEntry
from components.frame import frame
from components.live import announce_documents
from components.offload import gateway_bound, io_bound
from components.pay_choice import PayChoice, credits_used, settled_with_credits
from components.payment_done import payment_done, receipt_delivery_of
from services import portal
from services.account_details import AddressInput, billing_address
from services.amount_input import amount_text, read_amount
from services.errors import DomainError, NotFound, PaymentInDoubt, human_message
from services.gateways.base import ChargeRequest, ChargeStatus
from services.gateways.sandbox import SANDBOX_NOTICE
from services.i18n import _
from services.i18n.terms import term
from services.money import Money, format_money
from services.online_payments import (
    CreditSettlement,
    PaymentOutcome,
    PaymentPlan,
    complete_action,
    pay,
    plan_pay_invoice,
    settle_with_credits,
)
from services.pay_now import PayNowOffer, offer_pay_now
from services.payment_settings import AcceptedMethods, accepted_methods
from services.principal import Principal
from services.saved_methods import gateway_customer, list_saved_methods

log = logging.getLogger(__name__)
NEW_CARD = "new-card"
NEW_ACCOUNT = "new-account"


@ui.page("/pay")
async def pay_page(request: Request, invoice: str = "") -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    offer: PayNowOffer | None = None  # Pay Now: the invoices to choose from, and the credits to use
    try:
        if invoice:
            plan = await io_bound(plan_pay_invoice, current.db, principal, invoice, clock=current.clock)
        else:
            offer = await io_bound(offer_pay_now, current.db, principal, clock=current.clock)
            plan = offer.plan
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This invoice does not exist.")) from None
    except DomainError as error:
        plan = None
        problem = human_message(error)
    branding = await business_branding(current.db)
    saved = await io_bound(list_saved_methods, current.db, principal, current.gateway.name)
    accepted = await io_bound(accepted_methods, current.db, principal.organization_id)
    address = await io_bound(billing_address, current.db, principal)  # the card form starts with it
    with frame(_("Pay"), branding=branding, principal=principal, active="/invoices"):
        if current.gateway.is_sandbox:
            with ui.row().classes("w-full items-center gap-2 rounded bg-amber-1 text-brown-10 p-3"):
                ui.icon("science")
                ui.label(term(SANDBOX_NOTICE)).classes("font-medium")
        if plan is None or not plan.lines:
            ui.label(problem if plan is None else _nothing_to_pay(plan, branding.locale)).classes("text-lg")
            ui.link(_("Back to Invoices"), "/invoices")
            return
        PaymentForm(current, principal, plan, branding.name, branding.locale, saved, accepted, address, offer)


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
        address: AddressInput,
        offer: PayNowOffer | None = None,
    ) -> None:
        self.current = current
        self.offer = offer
        self.choice: PayChoice | None = None
        self.accepted = accepted
        self.address = address
        self.principal = principal
        self.plan = plan
        self.locale = locale
        self.business = business
        self.busy = False
        self.attempt: PaymentOutcome | None = None  # an attempt the gateway may be charging
        self.card: CardEntry | None = None
        self.root = ui.column().classes("w-full gap-6")
        with self.root:
            self.build(saved)

    def build(self, saved: tuple) -> None:
        plan = self.plan
        self.amount: ui.input | None = None  # one invoice's amount to pay
        if self.offer is not None:
            self.choice = PayChoice(
                self.offer, self.locale, on_change=self.choice_changed, on_settle=self.settle
            )
        else:
            self.one_invoice(plan)
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered") as self.method_card:
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
                    self.card = CardEntry(self.current.gateway, self.address, can_save=True)
            if bank_debits:
                with (
                    ui.column()
                    .classes("w-full gap-2")
                    .bind_visibility_from(self.method, "value", value=NEW_ACCOUNT)
                ):
                    self.account = BankAccountEntry(self.business, self.principal.email, can_save=True)
            self.error = ui.label().classes("text-negative text-sm").mark("pay-error")
            self.button = (
                ui.button(_("Pay {amount}").format(amount=self.money(plan.total)), on_click=self.submit)
                .props("unelevated no-caps size=lg")
                .mark("pay-submit")
            )
        if self.choice is not None:
            self.choice_changed(self.choice.plan)

    def one_invoice(self, plan: PaymentPlan) -> None:
        """What you are paying of one invoice: its balance, and the amount to pay (no more than that)."""
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

    def choice_changed(self, plan: PaymentPlan | None) -> None:
        """Pay Now: the Pay button names what is left to charge once the credits are used, and is off
        while an amount is refused or nothing is chosen; no payment method is asked for when the
        credits cover everything (they are paid with the choice's own button)."""
        button = getattr(self, "button", None)  # none yet while the form is built, or at all (no method)
        if hasattr(self, "method_card"):
            self.method_card.set_visibility(plan is None or not plan.lines or plan.charge.minor > 0)
        if button is None or self.busy:
            return
        if plan is None or not plan.lines:
            button.text = _("Pay")
            button.disable()
        else:
            button.text = _("Pay {amount}").format(amount=self.money(plan.charge))
            button.enable()

    async def refresh_offer(self) -> None:
        """After a refusal, show Pay Now's invoices and credits as they are now (used in another tab,
        paid meanwhile), keeping what the customer ticked and typed."""
        if self.choice is None:
            return
        try:
            offer = await io_bound(offer_pay_now, self.current.db, self.principal, clock=self.current.clock)
        except Exception:  # the refusal is shown either way; the next try reads the books again
            log.exception("Pay Now's offer could not be read again")
            return
        self.choice.show(offer)

    async def settle(self) -> None:
        """Pay Now with credits alone: nothing is charged and no payment service is asked."""
        choice = self.choice
        if self.busy or choice is None or choice.plan is None:
            return
        self.busy = True
        choice.error.text = ""
        choice.settle_button.props("loading")
        choice.settle_button.disable()
        settlement: CreditSettlement | None = None
        try:
            settlement = await io_bound(
                settle_with_credits, self.current.db, self.principal, choice.plan, clock=self.current.clock
            )
        except DomainError as error:
            choice.error.text = human_message(error, locale=self.locale)
        except Exception:
            log.exception("credits could not be applied at checkout")
            choice.error.text = _("Something went wrong, so nothing was charged. Please try again.")
        finally:
            self.busy = False
            choice.settle_button.props(remove="loading")
            choice.settle_button.enable()
        if settlement is None:
            await self.refresh_offer()
            return
        current = portal.current()
        await announce_documents(current.events, current.db, self.principal)
        self.root.clear()
        with self.root:
            done = settled_with_credits(settlement, self.money)
        with done:
            _onward_buttons()

    async def browser_card(self) -> ChargeRequest | None:
        """Stripe: the card typed into Stripe's element becomes a PaymentMethod; None if it was refused."""
        assert self.card is not None  # noqa: S101 - only called with the Stripe gateway
        if not self.card.holder_name:
            self.error.text = _("Enter the name on the card.")
            return None
        current = self.current
        customer = await gateway_bound(
            gateway_customer, current.db, current.gateway, self.principal, clock=current.clock
        )
        setup = await gateway_bound(current.gateway.start_card_setup, customer)
        answer = await self.card.confirm_setup(setup.client_secret)
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
            save_method=self.card.saves,
        )

    async def charge(self) -> PaymentOutcome | None:
        """Plan again (an invoice may have changed since the page was drawn), charge, finish 3-D Secure."""
        current, plan = self.current, self.plan
        if self.choice is not None:
            if self.choice.plan is None or not self.choice.plan.lines:  # the button is off meanwhile
                self.error.text = _("Tick at least one invoice to pay.")
                return None
            plan = self.choice.plan  # checked again as the attempt is stored, credits included
        elif self.amount is not None:
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
        stripe_card = self.card.stripe_card if self.card is not None else None
        if self.method.value == NEW_CARD and stripe_card is not None:
            request = await self.browser_card()
            if request is None:
                return None
        else:
            request = self.charge_request()
        # Its database steps too: a gateway slow to answer holds gateway threads only (components.offload).
        outcome = await gateway_bound(
            pay, current.db, current.gateway, self.principal, plan, request, clock=current.clock
        )
        if outcome.status == ChargeStatus.REQUIRES_ACTION and stripe_card is not None:
            self.attempt = outcome  # from here on the charge may go through: never say it did not
            await stripe_card.authenticate(outcome.client_secret)
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
        if choice == NEW_CARD and self.card is not None:
            card = self.card.card_details()  # an expiry that cannot be read stops here: nothing is charged
            return ChargeRequest("", 0, "", "", card=card, save_method=self.card.saves)
        if choice == NEW_ACCOUNT:
            account = self.account.details()
            return ChargeRequest("", 0, "", "", bank_account=account, save_method=self.account.saves)
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
            await self.refresh_offer()
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
            if self.choice is not None:
                self.choice_changed(self.choice.plan)
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
        delivery = await receipt_delivery_of(self.current.db, self.principal, outcome.payment_public_id)
        self.root.clear()
        with self.root:
            done = payment_done(
                outcome,
                delivery,
                receipt_pdf=f"/payments/{outcome.payment_public_id}/pdf",
                money=self.money,
                processing_note=_("The invoices are marked paid as soon as your bank confirms it."),
            )
        with done:
            paid = next(iter(ElementFilter(kind=ui.label, marker="pay-done", local_scope=True)), None)
            credits_used(outcome.credits, self.money, after=paid)
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
            if self.choice is not None and self.choice.plan is not None and self.choice.plan.credits:
                ui.label(_("The credits it uses are kept for it until then.")).classes("text-grey-8")
            _onward_buttons()


def _onward_buttons() -> None:
    with ui.row().classes("gap-2"):
        ui.button(_("Back to Home"), on_click=lambda: ui.navigate.to("/")).props("unelevated no-caps")
        ui.button(_("Invoices"), on_click=lambda: ui.navigate.to("/invoices")).props("flat no-caps")


def _nothing_to_pay(plan: PaymentPlan, locale: str) -> str:
    if plan.on_its_way is not None:
        return _(
            "We are confirming your payment of {amount}; you will not be charged twice. Your invoices are "
            "updated as soon as it is confirmed."
        ).format(amount=format_money(plan.on_its_way, locale))
    return _("There is nothing to pay. Thank you!")
