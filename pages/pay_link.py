"""The page a pay link opens: that one invoice, its PDF, and Pay, for whoever holds the link.

Public (``api.auth.PUBLIC_PATHS``): the link's token is the key, and every action asks
``services.pay_links`` again, so a link revoked or an invoice paid while the page is open pays nothing.
Nothing else of the client is shown or reachable, and no session is opened; a customer with a login
can still "Sign in to see all invoices". The card and bank account forms are the Pay page's
(``components.card_entry``, ``components.bank_account_entry``), with the billing address the invoice
is made out to; nothing is saved for later, as there is no account to save it to. Once paid, the
receipt can be downloaded and printed through the link, that payment's only.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from api.pay_links import PDF_PATH, RECEIPT_PATH
from components.bank_account_entry import BankAccountEntry
from components.banner import banner
from components.branding import business_branding
from components.card_entry import CardEntry
from components.frame import business_mark, demo_banner
from components.headings import page_heading, section_heading
from components.invoice_document import invoice_document
from components.offload import gateway_bound, io_bound
from components.payment_done import payment_done, receipt_delivery_of
from components.theme import apply_theme
from services import portal
from services.account_details import AddressInput, billing_address
from services.branding import Branding
from services.errors import DomainError, PaymentInDoubt, human_message
from services.gateways.base import ChargeRequest, ChargeStatus
from services.gateways.sandbox import SANDBOX_NOTICE
from services.i18n import _
from services.i18n.terms import term
from services.invoice_detail import InvoiceDocument, get_invoice
from services.money import Money, format_money
from services.online_payments import PaymentOutcome
from services.pay_links import PATH, LinkPayer, complete_by_link, open_pay_link, pay_by_link
from services.payment_settings import accepted_methods
from services.saved_methods import gateway_customer

log = logging.getLogger(__name__)
NEW_CARD = "new-card"
NEW_ACCOUNT = "new-account"


@ui.page(PATH)
async def pay_link_page(request: Request, token: str = "") -> None:
    current = portal.current()
    address = client_address(request)
    branding = await business_branding(current.db)
    apply_theme()
    ui.page_title(_("Pay an invoice · {name}").format(name=branding.name))
    if branding.is_demo:
        demo_banner()
    with ui.column().classes("w-full max-w-3xl mx-auto p-4 gap-4"):
        with ui.row().classes("w-full items-center justify-between"):
            business_mark(branding)
            ui.link(_("Sign in to see all invoices"), "/login").classes("text-sm text-primary")
        try:
            opened = await io_bound(open_pay_link, current.db, token, ip_address=address, clock=current.clock)
            document = await io_bound(
                get_invoice, current.db, opened.payer, opened.invoice_public_id, today=current.clock().date()
            )
            prefill = await io_bound(billing_address, current.db, opened.payer)
            accepted = await io_bound(accepted_methods, current.db, opened.payer.organization_id)
        except DomainError as error:
            page_heading(_("Pay an invoice"))
            with ui.column().classes("w-full").mark("pay-link-unusable"):
                banner("warning", human_message(error))
            return
        bank_debits = accepted.bank_debits and current.gateway.accepts_bank_debits(
            document.balance_due.currency
        )
        methods = [method for method, on in ((NEW_CARD, accepted.cards), (NEW_ACCOUNT, bank_debits)) if on]
        LinkPayment(current, token, address, opened.payer, document, branding, prefill, methods)


class LinkPayment:
    """The invoice, its PDF, and the card (or bank account) form that pays its balance through the link."""

    def __init__(
        self,
        current: portal.Portal,
        token: str,
        address: str,
        payer: LinkPayer,
        document: InvoiceDocument,
        branding: Branding,
        prefill: AddressInput,
        methods: list[str],
    ) -> None:
        self.current, self.token, self.address, self.document = current, token, address, document
        self.payer = payer
        self.busy = False
        self.attempt: PaymentOutcome | None = None  # an attempt the gateway may be charging
        self.card: CardEntry | None = None
        self.account: BankAccountEntry | None = None
        due = format_money(document.balance_due, document.locale)
        page_heading(_("Invoice {number}").format(number=document.number))
        if current.gateway.is_sandbox:
            banner("warning", SANDBOX_NOTICE)
        pdf = f"{PDF_PATH}?{urlencode({'token': token})}"
        with ui.row().classes("gap-2"):
            ui.button(_("Download PDF"), on_click=lambda: ui.download(f"{pdf}&download=true")).props(
                "outline no-caps"
            )
            ui.link(_("Open PDF"), pdf, new_tab=True).classes("self-center text-primary")
        self.sheet = ui.column().classes("w-full")
        with self.sheet:
            invoice_document(document)
        self.root = ui.column().classes("w-full")
        with self.root, ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            if not methods:
                ui.label(
                    _(
                        "{business} does not take online payments in {currency} at the moment. Please "
                        "contact them to pay another way."
                    ).format(business=branding.name, currency=document.balance_due.currency)
                ).classes("text-grey-8").mark("pay-unavailable")
                return
            title = (
                _("Pay {amount} by card").format(amount=due) if methods == [NEW_CARD] else _("Payment method")
            )
            section_heading(title)
            options = {NEW_CARD: _("New card"), NEW_ACCOUNT: _("New bank account")}
            self.method = ui.radio({method: options[method] for method in methods}, value=methods[0])
            self.method.props("color=primary").mark("pay-method").set_visibility(len(methods) > 1)
            if NEW_CARD in methods:
                with (
                    ui.column()
                    .classes("w-full gap-2")
                    .bind_visibility_from(self.method, "value", value=NEW_CARD)
                ):
                    self.card = CardEntry(current.gateway, prefill, can_save=False)
            if NEW_ACCOUNT in methods:
                with (
                    ui.column()
                    .classes("w-full gap-2")
                    .bind_visibility_from(self.method, "value", value=NEW_ACCOUNT)
                ):
                    self.account = BankAccountEntry(branding.name, payer.email, can_save=False)
            self.error = ui.label().classes("text-negative text-sm").mark("pay-link-error")
            self.error.props("role=alert")
            self.button = ui.button(_("Pay {amount}").format(amount=due), on_click=self.submit)
            self.button.props("unelevated no-caps size=lg").mark("pay-link-submit")

    async def request(self) -> ChargeRequest | None:
        """The method as typed; None (with the reason shown) if the card form refused it."""
        if self.method.value == NEW_ACCOUNT and self.account is not None:
            return ChargeRequest("", 0, "", "", bank_account=self.account.details())
        assert self.card is not None  # noqa: S101 - the only other choice
        if self.card.stripe_card is None:
            return ChargeRequest("", 0, "", "", card=self.card.card_details())
        if not self.card.holder_name:
            self.error.text = _("Enter the name on the card.")
            return None
        # Stripe: the card typed into Stripe's element becomes a PaymentMethod of the client's customer.
        current = self.current
        opened = await io_bound(
            open_pay_link, current.db, self.token, ip_address=self.address, clock=current.clock
        )
        customer = await gateway_bound(
            gateway_customer, current.db, current.gateway, opened.payer, clock=current.clock
        )
        setup = await gateway_bound(current.gateway.start_card_setup, customer)
        answer = await self.card.confirm_setup(setup.client_secret)
        if answer.error:
            self.error.text = answer.error
            return None
        return ChargeRequest("", 0, "", "", payment_method_id=answer.payment_method_id, customer_id=customer)

    async def charge(self) -> PaymentOutcome | None:
        request = await self.request()
        if request is None:
            return None
        current = self.current
        outcome = await gateway_bound(
            pay_by_link, current.db, current.gateway, self.token, request, ip_address=self.address,
            clock=current.clock,
        )  # fmt: skip
        stripe_card = self.card.stripe_card if self.card is not None else None
        if outcome.status == ChargeStatus.REQUIRES_ACTION and stripe_card is not None:
            self.attempt = outcome  # from here on the charge may go through: never say it did not
            await stripe_card.authenticate(outcome.client_secret)
            outcome = await gateway_bound(
                complete_by_link, current.db, current.gateway, self.token, outcome.payment_public_id,
                ip_address=self.address, clock=current.clock,
            )  # fmt: skip
        return outcome

    async def submit(self) -> None:
        if self.busy:  # a second click while the first is at work pays nothing more
            return
        self.busy = True
        self.error.text = ""
        self.button.props("loading")
        self.attempt = None
        outcome: PaymentOutcome | None = None
        in_doubt: Money | None = None  # a charge whose outcome we do not know yet
        try:
            outcome = await self.charge()
        except PaymentInDoubt as error:
            in_doubt = error.amount
        except DomainError as error:  # a refusal (the link, the card): nothing was charged
            self.error.text = human_message(error)
        except Exception:
            log.exception("the pay link page failed")
            if self.attempt is not None:
                in_doubt = self.attempt.amount
            else:
                self.error.text = _("Something went wrong, so nothing was charged. Please try again.")
        finally:
            self.busy = False
            self.button.props(remove="loading")
        if in_doubt is not None:
            self.root.clear()
            with self.root, ui.card().classes("w-full p-6 gap-3 items-start").props("flat bordered"):
                ui.icon("hourglass_top").classes("text-4xl text-blue-8")
                ui.label(
                    _("We are confirming your payment of {amount}; you will not be charged twice.").format(
                        amount=self.money(in_doubt)
                    )
                ).classes("text-lg").mark("pay-confirming")
            return
        if outcome is None:
            return
        if outcome.status == "failed":
            self.error.text = term(outcome.failure_message)  # the gateway's words, in the reader's language
            return
        await self.show_invoice_again()  # its balance as it is now: paid, or with the payment processing
        delivery = await receipt_delivery_of(self.current.db, self.payer, outcome.payment_public_id)
        receipt = f"{RECEIPT_PATH}?{urlencode({'token': self.token, 'payment': outcome.payment_public_id})}"
        self.root.clear()
        with self.root:
            payment_done(
                outcome,
                delivery,
                receipt_pdf=receipt,
                money=self.money,
                processing_note=_("The invoice is marked paid as soon as your bank confirms it."),
            )

    async def show_invoice_again(self) -> None:
        current = self.current
        try:
            document = await io_bound(
                get_invoice, current.db, self.payer, self.document.public_id, today=current.clock().date()
            )
        except Exception:  # the payment is booked: the invoice as drawn before is still right but for it
            log.exception("the pay link page could not read invoice %s again", self.document.number)
            return
        self.sheet.clear()
        with self.sheet:
            invoice_document(document)

    def money(self, value: Money) -> str:
        return format_money(value, self.document.locale)
