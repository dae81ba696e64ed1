"""Back-office dialogs for money: record an offline payment, pay back a client's credit, decline a refund."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from nicegui import ui

from components.amount_field import AmountField
from components.field_errors import show_field_error
from components.headings import dialog_title
from components.offload import io_bound
from models import PaymentMethodKind, RefundSource
from services.admin_payments import (
    MAX_REFERENCE_LENGTH,
    RECORDABLE_METHODS,
    ClientChoice,
    ClientCredit,
    OpenInvoiceChoice,
    client_credit,
    open_invoices_of,
    plan_oldest_first,
    record_received_payment,
)
from services.amount_input import amount_text, read_amount
from services.dates import format_day
from services.errors import DomainError, InvalidDetails, InvalidNumber, human_message
from services.events import client_documents_topic
from services.i18n import _
from services.money import Money, format_money
from services.portal import Portal
from services.refund_approval import MAX_NOTE_LENGTH, decline_refund_request, refund_credit
from services.staff_auth import StaffPrincipal

Done = Callable[[], Awaitable[None]]
AMOUNT_PROPS = "outlined dense inputmode=decimal hide-bottom-space input-class=text-end"


def show_field_errors(fields: dict[str, ui.input | ui.select], errors: dict[str, str]) -> None:
    """Each field shows its own message beneath it (Quasar's error slot), or none."""
    for key, field in fields.items():
        message = errors.get(key, "")
        show_field_error(field, message)


class RecordPaymentDialog:
    """Record payment: cash, a cheque or a bank transfer, paying open invoices; any excess becomes credit."""

    def __init__(
        self, portal: Portal, staff: StaffPrincipal, clients: list[ClientChoice], locale: str, on_done: Done
    ) -> None:
        self.portal, self.staff, self.locale, self.on_done = portal, staff, locale, on_done
        self.clients = {client.public_id: client for client in clients}
        self.invoices: list[OpenInvoiceChoice] = []
        self.shares: dict[str, ui.input] = {}
        today = portal.clock().date()
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-xl gap-2 p-6"):
            dialog_title(self.dialog, _("Record payment"))
            ui.label(_("Money the client paid you directly: cash, a cheque or a bank transfer.")).classes(
                "text-sm text-grey-7"
            )
            self.client = (
                ui.select(
                    {c.public_id: c.name for c in clients}, label=_("Client"), on_change=self.load_invoices
                )
                .props("outlined dense use-input input-debounce=0 hide-bottom-space")
                .classes("w-full")
                .mark("payment-client")
            )
            with ui.row().classes("w-full gap-2 no-wrap max-sm:flex-wrap"):
                self.received_on = (
                    ui.input(_("Date received"), value=today.isoformat())
                    .props(f"outlined dense type=date max={today.isoformat()} hide-bottom-space")
                    .classes("w-full sm:w-44")
                    .mark("payment-date")
                )
                self.method = (
                    ui.select({str(k): v for k, v in RECORDABLE_METHODS.items()}, label=_("Method"),
                              value=str(PaymentMethodKind.BANK_TRANSFER))
                    .props("outlined dense hide-bottom-space")
                    .classes("w-full sm:w-44")
                    .mark("payment-method")
                )  # fmt: skip
                self.amount = (
                    ui.input(_("Amount"), on_change=self.preview)
                    .props("outlined dense inputmode=decimal hide-bottom-space input-class=text-end")
                    .classes("w-full sm:w-40")
                    .mark("payment-amount")
                )
            self.reference = (
                ui.input(_("Reference (cheque number, transfer reference)"))
                .props(f"outlined dense maxlength={MAX_REFERENCE_LENGTH} hide-bottom-space")
                .classes("w-full")
                .mark("payment-reference")
            )
            self.choose = ui.checkbox(
                _("Choose the invoices and amounts"), on_change=self.toggle_choice
            ).mark("payment-choose")
            self.allocation_area = ui.column().classes("w-full gap-1")
            self.summary = ui.label().classes("text-sm text-grey-8").mark("payment-summary")
            self.error = ui.label().classes("text-sm text-negative").mark("payment-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Record payment"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("payment-submit")
                )
        self.fields: dict[str, ui.input | ui.select] = {
            "client": self.client,
            "amount": self.amount,
            "date": self.received_on,
            "method": self.method,
            "reference": self.reference,
        }
        self.preview()

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    @property
    def currency(self) -> str:
        client = self.clients.get(self.client.value or "")
        return client.currency if client else ""

    async def load_invoices(self) -> None:
        if not self.client.value:
            self.invoices = []
        else:
            self.invoices = await io_bound(
                open_invoices_of, self.portal.db, self.staff.organization_id, self.client.value
            )
        self.toggle_choice()

    def toggle_choice(self) -> None:
        """Oldest first shows the plan; choosing shows an amount box per open invoice."""
        self.allocation_area.clear()
        self.shares = {}
        with self.allocation_area:
            if not self.invoices:
                if self.client.value:
                    ui.label(
                        _("This client has no unpaid invoices: the whole amount is kept as credit.")
                    ).classes("text-sm text-grey-7")
            elif self.choose.value:
                amount = self.parsed_amount()
                plan = plan_oldest_first(self.invoices, amount) if amount and amount.minor > 0 else {}
                for invoice in self.invoices:
                    with ui.row().classes("w-full items-center gap-2 no-wrap"):
                        ui.label(self.describe(invoice)).classes("text-sm grow")
                        share = plan.get(invoice.public_id, 0)
                        typed = amount_text(Money(share, self.currency), self.locale) if share else ""
                        self.shares[invoice.public_id] = (
                            ui.input(value=typed, on_change=self.preview)
                            .props(AMOUNT_PROPS)
                            .classes("w-32")
                            .mark(f"payment-share-{invoice.number}")
                        )
        self.preview()

    def describe(self, invoice: OpenInvoiceChoice) -> str:
        due = format_day(invoice.due_date, self.locale)
        return f"{invoice.number} · due {due} · {self.money(invoice.balance_due)} owed"

    def typed_amount(self) -> Money:
        """The amount received as typed, read in the page's locale; ``InvalidNumber`` if it cannot be."""
        return read_amount(self.amount.value or "", self.currency, self.locale)

    def parsed_amount(self) -> Money | None:
        try:
            return self.typed_amount() if self.currency else None
        except InvalidNumber:
            return None

    def chosen_shares(self) -> dict[str, int]:
        """The amounts typed per invoice; ``InvalidNumber`` (naming the invoice) when one cannot be read."""
        numbers = {invoice.public_id: invoice.number for invoice in self.invoices}
        shares: dict[str, int] = {}
        for public_id, field in self.shares.items():
            text = (field.value or "").strip()
            if text:
                name = _("amount for {invoice}").format(invoice=numbers.get(public_id) or _("the invoice"))
                shares[public_id] = read_amount(text, self.currency, self.locale, field=name).minor
        return shares

    def preview(self) -> None:
        """The amount as it was read, what it will pay and what is kept as credit, as it is typed."""
        if not self.client.value:
            self.summary.text = _("Choose the client who paid.")
            return
        try:
            amount = self.typed_amount()
            shares = self.chosen_shares() if self.choose.value else plan_oldest_first(self.invoices, amount)
        except InvalidNumber as error:
            empty = error.problem == "empty" and error.field == "amount"
            self.summary.text = _("Enter the amount received.") if empty else human_message(error)
            return
        if amount.minor <= 0:
            self.summary.text = _("Enter the amount received.")
            return
        numbers = {i.public_id: i.number for i in self.invoices}
        paid = ", ".join(
            _("{number} {amount}").format(number=numbers[key], amount=self.money(Money(share, self.currency)))
            for key, share in shares.items()
            if share
        )
        left = Money(amount.minor - sum(shares.values()), self.currency)
        text = " ".join(
            (
                _("{amount} received.").format(amount=self.money(amount)),
                _("Pays {invoices}.").format(invoices=paid) if paid else _("Pays no invoice."),
            )
        )
        if left.minor > 0:
            text += " " + _("{amount} is kept as the client's credit, to apply later or refund.").format(
                amount=self.money(left)
            )
        elif left.minor < 0:
            text = _("The amounts for invoices add up to more than the payment.")
        self.summary.text = text

    async def submit(self) -> None:
        errors: dict[str, str] = {}
        if not self.client.value:
            errors["client"] = _("Choose the client who paid.")
        amount: Money | None = None
        if self.client.value:
            try:
                amount = self.typed_amount()
            except InvalidNumber as error:
                errors["amount"] = human_message(error, locale=self.locale)
        try:
            received_on = date.fromisoformat(self.received_on.value or "")
        except ValueError:
            errors["date"] = _("Enter the date the money arrived.")
            received_on = self.portal.clock().date()
        shares: dict[str, int] | None = None
        try:
            shares = self.chosen_shares() if self.choose.value else None
        except InvalidNumber as error:
            errors["allocations"] = human_message(error, locale=self.locale)
        if errors or amount is None:
            self.show(errors)
            return
        self.submit_button.props("loading disable")
        try:
            payment = await io_bound(
                record_received_payment,
                self.portal.db,
                self.staff.organization_id,
                client_public_id=self.client.value,
                amount=amount,
                method=PaymentMethodKind(self.method.value),
                received_on=received_on,
                reference=self.reference.value or "",
                allocations=shares,
                clock=self.portal.clock,
            )
        except InvalidDetails as error:
            self.show(error.errors)
            return
        except DomainError as error:
            self.show({})
            self.error.text = human_message(error, locale=self.locale)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        self.portal.events.publish(client_documents_topic(payment.client_public_id))
        self.dialog.close()
        ui.notify(
            _("Payment {receipt_number} of {amount} recorded.").format(
                receipt_number=payment.receipt_number, amount=self.money(amount)
            ),
            type="positive",
        )
        await self.on_done()

    def show(self, errors: dict[str, str]) -> None:
        show_field_errors(self.fields, errors)
        self.error.text = " ".join(errors.values()) if errors else ""


class RefundCreditDialog:
    """Refund credit: record that the business paid back part of a client's available credit or retainer."""

    def __init__(
        self, portal: Portal, staff: StaffPrincipal, clients: list[ClientChoice], locale: str, on_done: Done
    ) -> None:
        self.portal, self.staff, self.locale, self.on_done = portal, staff, locale, on_done
        self.credit: ClientCredit | None = None
        self.clients = {client.public_id: client for client in clients}
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            dialog_title(self.dialog, _("Refund credit"))
            ui.label(
                _(
                    "Record money you paid back to the client yourself (cash, cheque or transfer). "
                    "It comes out of the client's available credits or retainer payments."
                )
            ).classes("text-sm text-grey-7")
            self.client = (
                ui.select({c.public_id: c.name for c in clients}, label=_("Client"), on_change=self.load)
                .props("outlined dense use-input input-debounce=0 hide-bottom-space")
                .classes("w-full")
                .mark("refund-client")
            )
            self.source = (
                ui.select({RefundSource.CREDIT.value: _("Available credits"),
                           RefundSource.RETAINER.value: _("Available retainer payments")},
                          label=_("From"), value=RefundSource.CREDIT.value, on_change=self.show_available)
                .props("outlined dense hide-bottom-space")
                .classes("w-full")
                .mark("refund-source")
            )  # fmt: skip
            self.available = ui.label().classes("text-sm text-grey-8").mark("refund-available")
            self.amount = AmountField(
                _("Amount paid back"),
                currency="",
                locale=locale,
                marker="refund-amount",
                echo=_("Records {} paid back.").format,
                props="outlined dense hide-bottom-space input-class=text-end",
            )
            self.error = ui.label().classes("text-sm text-negative").mark("refund-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Record refund"), on_click=self.submit)
                    .props("unelevated no-caps")
                    .mark("refund-submit")
                )

    async def load(self) -> None:
        self.credit = None
        if self.client.value:
            self.credit = await io_bound(
                client_credit, self.portal.db, self.staff.organization_id, self.client.value
            )
        self.show_available()

    def show_available(self) -> None:
        if self.credit is None:
            self.available.text = ""
            return
        source = RefundSource(self.source.value)
        most = self.credit.credits if source == RefundSource.CREDIT else self.credit.retainer
        self.available.text = _("Available to refund: {amount}").format(
            amount=format_money(most, self.locale)
        )
        self.amount.set_currency(most.currency)
        self.amount.set(most if most.minor > 0 else None)

    async def submit(self) -> None:
        client = self.clients.get(self.client.value or "")
        if client is None:
            self.error.text = _("Choose the client.")
            return
        self.amount.set_currency(client.currency)
        try:
            amount = self.amount.read()
        except InvalidNumber as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        self.error.text = ""
        self.submit_button.props("loading disable")
        try:
            await io_bound(
                refund_credit,
                self.portal.db,
                self.staff.organization_id,
                client_public_id=client.public_id,
                source=RefundSource(self.source.value),
                amount=amount,
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error, locale=self.locale)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        self.portal.events.publish(client_documents_topic(client.public_id))
        self.dialog.close()
        ui.notify(
            _("Refund of {amount} to {name} recorded.").format(
                amount=format_money(amount, self.locale), name=client.name
            ),
            type="positive",
        )
        await self.on_done()


class DeclineDialog:
    """Decline a refund request, with an optional note for the client; the amount is available again."""

    def __init__(
        self, portal: Portal, staff: StaffPrincipal, request_public_id: str, summary: str, on_done: Done
    ) -> None:
        self.portal, self.staff, self.request_public_id, self.on_done = (
            portal,
            staff,
            request_public_id,
            on_done,
        )
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-lg gap-2 p-6"):
            dialog_title(self.dialog, _("Decline refund request"))
            ui.label(
                _("{summary}. The amount becomes available to the client again.").format(summary=summary)
            ).classes("text-sm text-grey-7")
            self.note = (
                ui.textarea(_("Note to the client (optional)"))
                .props(f"outlined autogrow counter maxlength={MAX_NOTE_LENGTH}")
                .classes("w-full")
                .mark("decline-note")
            )
            self.error = ui.label().classes("text-sm text-negative").mark("decline-error")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button(_("Cancel"), on_click=self.dialog.close).props("flat no-caps")
                self.submit_button = (
                    ui.button(_("Decline request"), on_click=self.submit)
                    .props("unelevated no-caps color=negative")
                    .mark("decline-submit")
                )

    async def submit(self) -> None:
        self.submit_button.props("loading disable")
        try:
            client_public_id = await io_bound(
                decline_refund_request,
                self.portal.db,
                self.staff.organization_id,
                self.request_public_id,
                staff_user_id=self.staff.staff_user_id,
                note=self.note.value or "",
                clock=self.portal.clock,
            )
        except DomainError as error:
            self.error.text = human_message(error)
            return
        finally:
            self.submit_button.props(remove="loading disable")
        self.portal.events.publish(client_documents_topic(client_public_id))
        self.dialog.close()
        ui.notify(_("Refund request declined."), type="info")
        await self.on_done()
