"""Dialogs for available credits and retainer payments: apply them to an invoice, or request a refund."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.amount_field import AmountField
from components.headings import dialog_title
from components.live import announce_documents
from components.offload import io_bound
from models import RefundSource
from services.credit_actions import (
    MAX_REASON_LENGTH,
    ApplicableInvoice,
    CreditOptions,
    apply_available,
    ask_for_refund,
)
from services.dates import format_day
from services.errors import DomainError, human_message
from services.i18n import N_, _
from services.money import Money, format_money
from services.portal import Portal
from services.principal import Principal

SOURCE_TITLES = {RefundSource.CREDIT: N_("Credits"), RefundSource.RETAINER: N_("Retainer Payments")}


class ApplyDialog:
    """Apply Credits / Apply Retainer Payments to one of the unpaid invoices (or a given one)."""

    def __init__(
        self,
        portal: Portal,
        principal: Principal,
        options: CreditOptions,
        source: RefundSource,
        locale: str,
        *,
        on_done: Callable[[], Awaitable[None]],
        invoice_public_id: str = "",
    ) -> None:
        self.on_done = on_done
        self.portal, self.principal, self.options, self.source = portal, principal, options, source
        self.locale = locale
        available = options.available(source)
        invoices = [i for i in options.invoices if not invoice_public_id or i.public_id == invoice_public_id]
        self.invoices = {i.public_id: i for i in invoices}
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6"):
            dialog_title(self.dialog, _("Apply {source_title}").format(source_title=_(SOURCE_TITLES[source])))
            ui.label(_("Available: {amount}").format(amount=self.money(available))).classes(
                "text-sm text-grey-8"
            )
            labels = {i.public_id: self.describe(i) for i in invoices}
            self.invoice = (
                ui.select(labels, label=_("Invoice"), value=next(iter(labels), None), on_change=self.suggest)
                .props("outlined")
                .classes("w-full")
                .mark("apply-invoice")
            )
            self.amount = AmountField(
                _("Amount to apply"),
                currency=available.currency,
                locale=locale,
                marker="apply-amount",
                echo=_("You will apply {}.").format,
            )
            self.hint = ui.label().classes("text-xs text-grey-7")
            self.error = ui.label().classes("text-sm text-negative").mark("apply-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Apply"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("apply-submit")
                )
        self.suggest()

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    def describe(self, invoice: ApplicableInvoice) -> str:
        due = format_day(invoice.due_date, self.locale)
        return f"{invoice.number} · due {due} · {self.money(invoice.balance_due)} owed"

    def suggest(self) -> None:
        """Offer the most that can go on the chosen invoice: the smaller of what is available and due."""
        invoice = self.invoices.get(self.invoice.value or "")
        if invoice is None:
            self.hint.text = _("You have no unpaid invoices to apply it to.")
            self.submit_button.disable()
            return
        most = min(self.options.available(self.source).minor, invoice.can_take.minor)
        self.amount.set(Money(most, invoice.balance_due.currency))
        most_shown = self.money(Money(most, invoice.balance_due.currency))
        self.hint.text = (
            _("Up to {amount}. Part of this invoice is already being paid.")
            if invoice.can_take != invoice.balance_due
            else _("Up to {amount}.")
        ).format(amount=most_shown)

    async def submit(self) -> None:
        invoice = self.invoices.get(self.invoice.value or "")
        if invoice is None:
            self.error.text = _("Choose an invoice.")
            return
        try:
            amount = self.amount.read()
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        self.error.text = ""
        self.submit_button.props("loading disable")
        try:
            await io_bound(
                apply_available,
                self.portal.db,
                self.principal,
                invoice.public_id,
                amount,
                self.source,
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        await announce_documents(self.portal.events, self.portal.db, self.principal)
        self.dialog.close()
        ui.notify(
            _("{amount} applied to {number}.").format(amount=self.money(amount), number=invoice.number),
            type="positive",
        )
        await self.on_done()


class RefundDialog:
    """Request a refund of available credits or retainer payments; the business decides."""

    def __init__(
        self,
        portal: Portal,
        principal: Principal,
        options: CreditOptions,
        source: RefundSource,
        locale: str,
        *,
        on_done: Callable[[], Awaitable[None]],
    ) -> None:
        self.on_done = on_done
        self.portal, self.principal, self.source, self.locale = portal, principal, source, locale
        self.available = options.available(source)
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-3 p-6") as self.card:
            dialog_title(
                self.dialog,
                _("Request a Refund of {source_title}").format(source_title=_(SOURCE_TITLES[source])),
            )
            ui.label(
                _(
                    "Available: {amount}. The amount is held until the business approves or declines your "
                    "request."
                ).format(amount=self.money(self.available))
            ).classes("text-sm text-grey-8")
            self.amount = AmountField(
                _("Amount"),
                currency=self.available.currency,
                locale=locale,
                marker="refund-amount",
                echo=_("You will ask for {}.").format,
                value=self.available,
            )
            self.reason = (
                ui.textarea(_("Reason (optional)"))
                .props(f"outlined autogrow counter maxlength={MAX_REASON_LENGTH}")
                .classes("w-full")
                .mark("refund-reason")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("refund-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Request Refund"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("refund-submit")
                )

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    async def submit(self) -> None:
        try:
            amount = self.amount.read()
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        self.error.text = ""
        self.submit_button.props("loading disable")
        try:
            reference = await io_bound(
                ask_for_refund,
                self.portal.db,
                self.principal,
                self.source,
                amount,
                self.reason.value or "",
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        await announce_documents(self.portal.events, self.portal.db, self.principal)  # the amount is held
        self.card.clear()
        with self.card:
            ui.icon("task_alt").classes("text-4xl text-positive")
            # A title again, so that the dialog keeps a name.
            dialog_title(self.dialog, _("Refund requested: {amount}").format(amount=self.money(amount)))
            ui.label(
                _(
                    "Reference {reference}. The amount is held for you until the business decides; you will "
                    "hear from them by e-mail."
                ).format(reference=reference)
            ).classes("text-sm text-grey-8")
            ui.button(_("Close"), on_click=self.dialog.close).props("unelevated no-caps").classes("self-end")
        await self.on_done()
