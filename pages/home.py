"""Home (the dashboard): what the customer owes and has, their details and the business's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from nicegui import ui
from nicegui.client import ClientConnectionTimeout

from api.auth import client_address
from components.account_forms import address_dialog, contact_dialog
from components.branding import business_branding
from components.business_contact import ReviewDialog, SendEmailDialog, contact_details
from components.card_details import card_details
from components.cards import detail_card, figure_card
from components.credit_dialogs import ApplyDialog, RefundDialog
from components.dialog_host import DialogHost
from components.frame import frame
from components.live import LiveTopics, Loads, customer_topic
from components.offload import io_bound
from models import RefundSource
from services import portal
from services.credit_actions import CreditOptions
from services.credit_notes import CreditNoteSummary
from services.dashboard import Dashboard
from services.dates import format_day
from services.home import home_data
from services.i18n import _
from services.money import Money, format_money
from services.principal import Principal

CONNECTION_WAIT = 60.0  # seconds a browser may take to connect its socket once it has the page


@ui.page("/")
async def home_page(request: Request) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    branding = await business_branding(current.db)
    with frame(_("Home"), branding=branding, principal=principal, active="/"):
        home = HomeView(current, principal, client_address(request), branding.locale)
    # The frame is answered at once; the figures follow over the page's connection. A burst of Home
    # loads (month-end) then never waits on the database for its answer, and none times out.
    try:
        await ui.context.client.connected(timeout=CONNECTION_WAIT)
    except ClientConnectionTimeout:
        return  # the browser never connected: nobody to show the figures to
    topic = await customer_topic(current.db, principal)
    watch = LiveTopics(current.events, topic)  # before the first read, so no change is missed
    await home.render()
    watch.follow(home.render)


class HomeView:
    """The dashboard's content, drawn again in place after a dialog or the business changed something.

    Dialogs live outside the redrawn content, so what the customer is typing in one survives.
    """

    def __init__(self, current: portal.Portal, principal: Principal, ip_address: str, locale: str) -> None:
        self.current, self.principal = current, principal
        self.ip_address, self.locale = ip_address, locale
        self.dialogs = DialogHost()
        self.body = ui.column().classes("w-full gap-6")
        self.loads = Loads()

    async def render(self) -> None:
        current, principal = self.current, self.principal
        ticket = self.loads.start()
        data = await io_bound(home_data, current.db, principal, current.gateway.name, now=current.clock())
        dashboard, options, methods, auto_pay = data.dashboard, data.options, data.methods, data.auto_pay
        if not self.loads.is_latest(ticket):
            return
        self.body.clear()
        with self.body:
            _figures(self, dashboard, options, data.credit_notes)
            with ui.grid().classes("w-full gap-4 grid-cols-1 md:grid-cols-2"):
                self.account(dashboard)
                self.addresses(dashboard)
                card_details(
                    current,
                    principal,
                    methods,
                    self.dialogs,
                    on_done=self.render,
                    auto_pay=auto_pay,
                    ip_address=self.ip_address,
                    locale=self.locale,
                )
                self.business(dashboard)

    def account(self, dashboard: Dashboard) -> None:
        account = dashboard.account
        detail_card(
            _("My Account Details"),
            [
                (_("Name"), account.contact_name),
                (_("Company"), account.company_name or account.client_name),
                (_("Email"), account.contact_email),
                (_("Company email"), account.email if account.email != account.contact_email else ""),
                (_("Phone"), account.contact_phone or account.phone),
                (_("Website"), account.website),
                (_("Tax number"), account.tax_number),
                (_("Currency"), account.currency),
            ],
            icon="person",
            edit=lambda: self.dialogs.show_loaded(
                lambda: contact_dialog(self.current, self.principal, self.render)
            ),
            edit_label=_("Edit account details"),
            test_id="account-details",
        )

    def addresses(self, dashboard: Dashboard) -> None:
        account = dashboard.account
        shipping = account.shipping_address.lines() if account.shipping_address else [_("Same as billing")]
        detail_card(
            _("Addresses"),
            [(_("Billing address"), account.billing_address.lines()), (_("Shipping address"), shipping)],
            icon="home_work",
            edit=lambda: self.dialogs.show_loaded(
                lambda: address_dialog(self.current, self.principal, self.render)
            ),
            edit_label=_("Edit addresses"),
            test_id="addresses",
        )

    def business(self, dashboard: Dashboard) -> None:
        business = dashboard.business
        card = detail_card(
            business.name,
            contact_details(business),
            icon="storefront",
            test_id="business-details",
        )
        with card, ui.row().classes("gap-2 mt-1"):
            ui.button(
                _("Send Email"),
                icon="mail",
                on_click=lambda: self.dialogs.show(
                    lambda: SendEmailDialog(self.current, self.principal, business.name)
                ),
            ).props("unelevated no-caps")
            ui.button(
                _("Review"),
                icon="star",
                on_click=lambda: self.dialogs.show(
                    lambda: ReviewDialog(self.current, self.principal, business.name)
                ),
            ).props("outline no-caps")


def _credit_actions(
    home: HomeView, options: CreditOptions, source: RefundSource, locale: str
) -> list[tuple[str, Callable[[], Any]]]:
    """Apply to Invoice and Request Refund, for whatever of the source is free to use."""
    if options.available(source).minor <= 0:
        return []
    current, principal = home.current, home.principal
    actions: list[tuple[str, Callable[[], Any]]] = []
    if options.invoices:
        actions.append(
            (_("Apply to Invoice"), lambda: home.dialogs.show(
                lambda: ApplyDialog(current, principal, options, source, locale, on_done=home.render)))
        )  # fmt: skip
    actions.append(
        (_("Request Refund"), lambda: home.dialogs.show(
            lambda: RefundDialog(current, principal, options, source, locale, on_done=home.render)))
    )  # fmt: skip
    return actions


def _figures(
    home: HomeView, dashboard: Dashboard, options: CreditOptions, credit_notes: tuple[CreditNoteSummary, ...]
) -> None:
    balances = dashboard.balances
    locale = dashboard.business.locale

    def money(value: object) -> str:
        return format_money(value, locale)  # type: ignore[arg-type]

    for_refund = _("{amount} of it is held for your refund request.")
    for_payment = _("{amount} of it is kept for your payment in progress.")

    def note(otherwise: str, reserved: Money, held: Money) -> str:
        """What part of the figure cannot be used now, and why; else what the figure is."""
        said = [
            text.format(amount=money(part))
            for text, part in ((for_refund, reserved), (for_payment, held))
            if part
        ]
        return " ".join(said) or otherwise

    credits_note = note(
        _("From credit notes and overpayments."), balances.reserved_credits, balances.held_credits
    )
    retainer_note = note(
        _("Paid in advance, ready to use on invoices."), balances.reserved_retainer, balances.held_retainer
    )
    last = balances.last_payment
    outstanding_note = (
        _("Total of your unpaid invoices.") if balances.outstanding else _("Nothing to pay. Thank you!")
    )
    confirming = sum(invoice.confirming.minor for invoice in options.invoices)
    processing = sum(invoice.processing.minor for invoice in options.invoices)
    if confirming:  # a payment whose answer we have not had: paying again could pay twice
        amount = money(Money(confirming, balances.outstanding.currency))
        outstanding_note = _(
            "We are confirming your payment of {amount}; you will not be charged twice."
        ).format(amount=amount)
    elif processing:  # a bank debit on its way: the invoices stay unpaid until it clears
        amount = money(Money(processing, balances.outstanding.currency))
        outstanding_note = _(
            "A payment of {amount} is being processed; the invoices it pays are marked paid once it clears."
        ).format(amount=amount)
    # Pay Now while some of it can be paid: not while payments on their way cover all of it.
    payable = not options.invoices or any(invoice.can_take.minor > 0 for invoice in options.invoices)
    with ui.grid().classes("w-full gap-4 grid-cols-1 sm:grid-cols-2 xl:grid-cols-4"):
        figure_card(
            _("Outstanding Invoices"),
            money(balances.outstanding),
            icon="receipt_long",
            note=outstanding_note,
            test_id="outstanding-invoices",
            actions=[(_("Pay Now"), lambda: ui.navigate.to("/pay"))]
            if balances.outstanding.minor > 0 and payable
            else [],
        )
        figure_card(
            _("Available Credits"),
            money(balances.available_credits),
            icon="savings",
            note=credits_note,
            test_id="available-credits",
            actions=_credit_actions(home, options, RefundSource.CREDIT, locale),
            # Each credit note with credit left opens on its own page.
            links=[
                (
                    _("Credit note {number}: {amount} left").format(
                        number=note.number, amount=money(note.remaining)
                    ),
                    f"/credit-notes/{note.public_id}",
                )
                for note in credit_notes
            ],
        )
        figure_card(
            _("Available Retainer Payments"),
            money(balances.available_retainer),
            icon="account_balance_wallet",
            note=retainer_note,
            test_id="available-retainer",
            actions=_credit_actions(home, options, RefundSource.RETAINER, locale),
        )
        figure_card(
            _("Last Payment Made"),
            money(last.amount) if last else _("None yet"),
            icon="event_available",
            note=_("On {date}").format(date=format_day(last.received_at, locale))
            if last
            else _("Your payments will show here."),
            test_id="last-payment",
        )
