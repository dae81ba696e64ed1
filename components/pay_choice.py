"""Pay Now's "What you are paying": each open invoice with a check box and the amount to pay of it, the
available credits and retainer used first, and the total and what is left to charge, following every
tick and keystroke; a plan the credits cover in full is paid here, with no card or account at all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui

from components.headings import section_heading
from models import RefundSource
from services.amount_input import amount_text, read_amount
from services.checkout_credits import UsedCredit
from services.errors import DomainError, human_message
from services.i18n import N_, _
from services.money import Money, format_money
from services.online_payments import CreditSettlement, PaymentPlan
from services.pay_now import SOURCES, PayNowOffer, check_amount, choose
from services.payment_notices import USED_TOTALS

USE_LABELS = {
    RefundSource.CREDIT: N_("Use {amount} of credits"),
    RefundSource.RETAINER: N_("Use {amount} of retainer payments"),
}
SOURCE_TITLES = {RefundSource.CREDIT: N_("Credits"), RefundSource.RETAINER: N_("Retainer Payments")}


@dataclass(frozen=True)
class _Row:
    box: ui.checkbox
    field: ui.input
    message: ui.label

    def refuse(self, message: str) -> None:
        """Mark the field and say beneath it why its amount is refused ("" when it is not); a screen
        reader hears the reason with the field."""
        self.message.text = message
        self.message.set_visibility(bool(message))
        self.field.props["error"] = bool(message)
        if message:
            self.field.props(f"aria-invalid=true aria-describedby={self.message.html_id}")
        else:
            self.field.props(remove="aria-invalid aria-describedby")


class PayChoice:
    """The card of choices. ``plan`` is what the customer chose, or None while an amount is refused
    (its field says why); ``on_change`` hears of every change, ``on_settle`` is the click on "Pay with
    your credits", shown only when they cover the whole plan."""

    def __init__(
        self,
        offer: PayNowOffer,
        locale: str,
        *,
        on_change: Callable[[PaymentPlan | None], None],
        on_settle: Callable[[], Awaitable[None]],
    ) -> None:
        self.offer, self.locale = offer, locale
        self.on_change: Callable[[PaymentPlan | None], None] | None = None  # not while being built
        self.plan: PaymentPlan | None = None
        self.rows: dict[str, _Row] = {}
        self.uses: dict[RefundSource, ui.checkbox] = {}
        self.figures: dict[str, tuple[ui.row, ui.label]] = {}
        with ui.card().classes("w-full p-5 gap-3").props("flat bordered"):
            section_heading(_("What you are paying"))
            ui.label(_("Untick an invoice to pay it later, or lower the amount you pay of it.")).classes(
                "text-sm text-grey-8"
            )
            self.invoices = ui.column().classes("w-full gap-2")
            self.credits = ui.column().classes("w-full gap-0")
            ui.separator()
            for key, title in (("total", _("Total")), *((str(s), _(SOURCE_TITLES[s])) for s in SOURCES)):
                with ui.row().classes("w-full justify-between no-wrap") as row:
                    ui.label(title)
                    self.figures[key] = (row, ui.label().classes("tabular-nums").mark(f"pay-{key}"))
            with ui.row().classes("w-full justify-between no-wrap") as row:
                ui.label(_("Amount to pay")).classes("font-semibold")
                figure = ui.label().classes("font-semibold tabular-nums").mark("pay-to-charge")
                self.figures["charge"] = (row, figure)
            self.note = ui.label().classes("text-sm text-grey-8").mark("pay-choice-note")
            self.error = ui.label().classes("text-negative text-sm").mark("pay-choice-error")
            self.settle_button = (
                ui.button(on_click=on_settle).props("unelevated no-caps size=lg").mark("pay-with-credits")
            )
        self.show(offer)
        self.on_change = on_change
        self.changed()

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    def show(self, offer: PayNowOffer) -> None:
        """Draw the invoices and credits of ``offer``; what was ticked and typed stays as it was for the
        invoices still in it (a newer offer read after a refusal)."""
        kept = {
            public_id: (bool(row.box.value), str(row.field.value or ""))
            for public_id, row in self.rows.items()
        }
        used = {source: bool(box.value) for source, box in self.uses.items()}
        self.offer = offer
        self.rows, self.uses = {}, {}
        self.invoices.clear()
        with self.invoices:
            for line in offer.plan.lines:
                ticked, typed = kept.get(
                    line.invoice_public_id, (True, amount_text(line.amount, self.locale))
                )
                with ui.column().classes("w-full gap-1"):
                    with ui.row().classes("w-full items-start justify-between gap-3 no-wrap"):
                        with ui.column().classes("gap-0 min-w-0"):
                            box = (
                                ui.checkbox(line.number, value=ticked, on_change=self.changed)
                                .classes("whitespace-nowrap")
                                .mark(f"pay-line pay-line-{line.number}")
                            )
                            ui.label(
                                _("Balance due {amount}").format(amount=self.money(line.balance_due))
                            ).classes("text-xs text-grey-8 ps-10")
                        field = (
                            ui.input(_("Amount"), value=typed, on_change=self.changed)
                            .without_auto_validation()  # which would clear the mark ``changed`` sets
                            .props("outlined dense inputmode=decimal hide-bottom-space")
                            .classes("w-32 sm:w-44 shrink-0")
                            .mark(f"pay-amount-{line.number}")
                        )
                        # Its name says which invoice it is for, to a screen reader too (whatever its number).
                        field.props["aria-label"] = _("Amount for {number}").format(number=line.number)
                    # Why the amount cannot be paid: beneath the whole row, not squeezed under the field.
                    message = ui.label().classes("w-full text-sm text-negative text-end")
                    message.mark(f"pay-amount-error-{line.number}")
                self.rows[line.invoice_public_id] = _Row(box, field, message)
        self.credits.clear()
        with self.credits:
            ui.separator().classes("mb-2")
            for source in SOURCES:
                if offer.available(source).minor > 0:
                    self.uses[source] = ui.checkbox(
                        value=used.get(source, True), on_change=self.changed
                    ).mark(f"pay-use-{source}")
            if self.uses:
                ui.label(
                    _(
                        "Credits and retainer payments are applied first, to the oldest invoices; your card "
                        "or account pays the rest."
                    )
                ).classes("text-xs text-grey-8")
        self.credits.set_visibility(bool(self.uses))
        self.changed()

    def changed(self) -> None:
        """Read every ticked amount as it is typed, refuse in its field what cannot be paid, and show the
        plan of the rest: the credit each check box would use, the total and what is left to charge."""
        currency = self.offer.plan.total.currency
        amounts: dict[str, Money] = {}
        refused = False
        for public_id, row in self.rows.items():
            row.field.set_enabled(bool(row.box.value))
            message = ""
            if row.box.value:
                try:
                    amount = read_amount(str(row.field.value or ""), currency, self.locale)
                    check_amount(self.offer, public_id, amount)
                    amounts[public_id] = amount
                except DomainError as error:
                    message, refused = human_message(error, locale=self.locale), True
            row.refuse(message)
        use = frozenset(source for source, box in self.uses.items() if box.value)
        shown = choose(self.offer, amounts, use=use)
        for source, box in self.uses.items():  # what it uses, or would use if it were ticked
            would = choose(self.offer, amounts, use=use | {source}).used(source)
            box.text = _(USE_LABELS[source]).format(amount=self.money(would))
        self.figures["total"][1].text = self.money(shown.total)
        for source in SOURCES:
            line, figure = self.figures[str(source)]
            line.set_visibility(shown.used(source).minor > 0)
            figure.text = f"−{self.money(shown.used(source))}"
        self.figures["charge"][1].text = self.money(shown.charge)
        self.plan = None if refused else shown
        covered = self.plan is not None and bool(self.plan.lines) and self.plan.charge.minor == 0
        if not shown.lines and not refused:
            self.note.text = _("Tick at least one invoice to pay.")
        else:
            self.note.text = (
                _("Your credits and retainer payments cover all of it: nothing will be charged.")
                if covered
                else ""
            )
        self.settle_button.text = _("Pay {amount} with your credits").format(amount=self.money(shown.total))
        self.settle_button.set_visibility(covered)
        if self.on_change is not None:
            self.on_change(self.plan)


def credits_used(
    credits: tuple[UsedCredit, ...], money: Callable[[Money], str], *, after: ui.element | None = None
) -> None:
    """ "Credits used: $120.00" (and the retainer's) in the current container, for a payment that used
    them: at its end, or right after ``after`` (the line saying what was paid)."""
    lines = []
    for source in SOURCES:
        uses = [use.amount for use in credits if use.source == source]
        if uses:
            total = Money(sum(amount.minor for amount in uses), uses[0].currency)
            line = ui.label(_(USED_TOTALS[source]).format(amount=money(total))).classes("text-grey-8")
            lines.append(line.mark(f"pay-used-{source}"))
    if after is not None and after.parent_slot is not None:
        siblings = after.parent_slot.children
        for line in lines:
            line.move(target_index=siblings.index(after) + 1 + lines.index(line))


def settled_with_credits(settlement: CreditSettlement, money: Callable[[Money], str]) -> ui.card:
    """What replaces the payment form once credits alone paid the plan; the caller adds its way onward."""
    currency = settlement.total.currency
    with ui.card().classes("w-full p-6 gap-3 items-start").props("flat bordered") as card:
        ui.icon("check_circle").classes("text-4xl text-positive").props('aria-hidden="true"')
        ui.label(_("Paid with your credits: {amount}.").format(amount=money(settlement.total))).classes(
            "text-lg"
        ).mark("pay-settled")
        for line in settlement.invoices:
            ui.label(
                _("{number}: {amount} (still due: {left})").format(
                    number=line.number,
                    amount=money(Money(line.amount_minor, currency)),
                    left=money(Money(line.left_minor, currency)),
                )
            ).classes("tabular-nums")
        credits_used(settlement.credits, money)
        ui.label(_("Nothing was charged.")).classes("text-grey-8")
    return card
