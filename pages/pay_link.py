"""The page a pay link opens: that one invoice, its PDF, and Pay, for whoever holds the link.

Public (``api.auth.PUBLIC_PATHS``): the link's token is the key, and every action asks
``services.pay_links`` again, so a link revoked or an invoice paid while the page is open pays nothing.
Nothing else of the client is shown or reachable, and no session is opened; a customer with a login
can still "Sign in to see all invoices".
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from api.pay_links import PDF_PATH
from components.banner import banner
from components.frame import business_mark, demo_banner
from components.invoice_document import invoice_document
from components.offload import gateway_bound, io_bound
from components.stripe_card import StripeCardField
from components.theme import apply_theme
from services import portal
from services.branding import Branding, get_branding
from services.card_input import read_expiry
from services.errors import DomainError, PaymentInDoubt, human_message
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SANDBOX_NOTICE
from services.gateways.stripe_gateway import StripeGateway
from services.gateways.switch import unwrap
from services.i18n import _
from services.invoice_detail import InvoiceDocument, get_invoice
from services.money import format_money
from services.pay_links import PATH, open_pay_link, pay_by_link
from services.saved_methods import new_gateway_customer

log = logging.getLogger(__name__)


@ui.page(PATH)
async def pay_link_page(request: Request, token: str = "") -> None:
    current = portal.current()
    address = client_address(request)
    branding = await io_bound(get_branding, current.db)
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
        except DomainError as error:
            ui.label(_("Pay an invoice")).classes("text-2xl font-semibold").props("role=heading aria-level=1")
            with ui.column().classes("w-full").mark("pay-link-unusable"):
                banner("warning", human_message(error))
            return
        LinkPayment(current, token, address, document, branding)


class LinkPayment:
    """The invoice, its PDF, and a card form that pays its balance through the link."""

    def __init__(
        self, current: portal.Portal, token: str, address: str, document: InvoiceDocument, branding: Branding
    ) -> None:
        self.current, self.token, self.address, self.document = current, token, address, document
        self.busy = False
        self.stripe_card: StripeCardField | None = None
        due = format_money(document.balance_due, document.locale)
        ui.label(_("Invoice {number}").format(number=document.number)).classes(
            "text-2xl font-semibold"
        ).props("role=heading aria-level=1")
        if current.gateway.is_sandbox:
            banner("warning", SANDBOX_NOTICE)
        pdf = f"{PDF_PATH}?{urlencode({'token': token})}"
        with ui.row().classes("gap-2"):
            ui.button(_("Download PDF"), on_click=lambda: ui.download(f"{pdf}&download=true")).props(
                "outline no-caps"
            )
            ui.link(_("Open PDF"), pdf, new_tab=True).classes("self-center text-primary")
        invoice_document(document)
        self.root = ui.card().classes("w-full p-5 gap-3").props("flat bordered")
        with self.root:
            ui.label(_("Pay {amount} by card").format(amount=due)).classes("text-lg font-semibold")
            self.card_form()
            self.error = ui.label().classes("text-negative text-sm").mark("pay-link-error")
            self.error.props("role=alert")
            self.button = ui.button(_("Pay {amount}").format(amount=due), on_click=self.submit)
            self.button.props("unelevated no-caps size=lg").mark("pay-link-submit")
        if self.stripe_card is not None:
            ui.timer(0, self.stripe_card.mount, once=True)  # once the browser is connected

    def card_form(self) -> None:
        gateway = unwrap(self.current.gateway)
        if isinstance(gateway, StripeGateway):
            self.stripe_card = StripeCardField(gateway.publishable_key, gateway.js_url)
        else:
            self.card_number = _field(_("Card number"), "cc-number", "pay-link-card-number")
            self.card_number.props("inputmode=numeric")
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.expiry = _field(_("Expiry (MM/YY)"), "cc-exp", "pay-link-card-expiry").classes("flex-1")
                self.cvc = _field(_("CVV"), "cc-csc", "pay-link-card-cvc").classes("flex-1")
                self.cvc.props("inputmode=numeric")
        self.card_name = _field(_("Name on card"), "cc-name", "pay-link-card-name")

    async def request(self) -> ChargeRequest | None:
        name = (self.card_name.value or "").strip()
        if self.stripe_card is None:
            month, year = read_expiry(self.expiry.value or "")
            card = CardDetails(
                self.card_number.value or "", month, year, (self.cvc.value or "").strip(), name
            )
            return ChargeRequest("", 0, "", "", card=card)
        if not name:
            self.error.text = _("Enter the name on the card.")
            return None
        # Stripe: the card typed into Stripe's element becomes a PaymentMethod of the client's customer.
        current = self.current
        opened = await io_bound(
            open_pay_link, current.db, self.token, ip_address=self.address, clock=current.clock
        )
        customer = await gateway_bound(
            new_gateway_customer,
            current.db,
            current.gateway,
            opened.payer,
            opened.payer.name,
            clock=current.clock,
        )
        setup = await gateway_bound(current.gateway.start_card_setup, customer)
        answer = await self.stripe_card.confirm_setup(setup.client_secret, {"name": name})
        if answer.error:
            self.error.text = answer.error
            return None
        return ChargeRequest("", 0, "", "", payment_method_id=answer.payment_method_id, customer_id=customer)

    async def submit(self) -> None:
        if self.busy:  # a second click while the first is at work pays nothing more
            return
        self.busy = True
        self.error.text = ""
        self.button.props("loading")
        try:
            request = await self.request()
            if request is None:
                return
            current = self.current
            outcome = await gateway_bound(
                pay_by_link, current.db, current.gateway, self.token, request, ip_address=self.address,
                clock=current.clock,
            )  # fmt: skip
        except PaymentInDoubt as error:
            self.finish(
                "hourglass_top",
                _("We are confirming your payment of {amount}; you will not be charged twice.").format(
                    amount=self.money(error.amount)
                ),
            )
            return
        except DomainError as error:  # a refusal (the link, the card): nothing was charged
            self.error.text = human_message(error)
            return
        except Exception:
            log.exception("the pay link page failed")
            self.error.text = _("Something went wrong, so nothing was charged. Please try again.")
            return
        finally:
            self.busy = False
            self.button.props(remove="loading")
        if outcome.status == "failed":
            self.error.text = outcome.failure_message
            return
        if outcome.status == "processing":
            self.finish(
                "schedule",
                _("Your payment of {amount} is processing.").format(amount=self.money(outcome.amount)),
            )
            return
        self.finish(
            "check_circle",
            _("Thank you! Payment received: {amount}.").format(amount=self.money(outcome.amount)),
            _("Receipt {number}").format(number=outcome.receipt_number),
        )

    def finish(self, icon: str, headline: str, detail: str = "") -> None:
        self.root.clear()
        with self.root:
            ui.icon(icon).classes("text-4xl text-positive").props('aria-hidden="true"')
            ui.label(headline).classes("text-lg").mark("pay-link-done")
            if detail:
                ui.label(detail).classes("text-grey-8")

    def money(self, value: object) -> str:
        return format_money(value, self.document.locale)  # type: ignore[arg-type]


def _field(label: str, autocomplete: str, mark: str) -> ui.input:
    field = ui.input(label).props(f"outlined dense autocomplete={autocomplete}").classes("w-full")
    return field.mark(mark)
