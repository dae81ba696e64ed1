"""Editable line items with their totals recomputed by ``services.totals`` as the user types."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from nicegui import ui

from services.draft_invoices import line_key, line_problem, parse_line, totals_problem
from services.errors import InvalidDetails
from services.i18n import N_, _
from services.money import Money, format_money
from services.tax_rates import TaxRateView
from services.totals import LineInput, document_totals

NO_TAX = ""


@dataclass(frozen=True)
class TaxChoice:
    key: str  # the option's value in the select
    name: str
    rate_percent: Decimal
    label: str


@dataclass(frozen=True)
class LineText:
    """A line as the editor shows it: what was typed, or what a saved line reads as."""

    description: str = ""
    quantity: str = "1"
    rate: str = ""
    tax_key: str = NO_TAX
    discount: str = ""


def tax_choices(rates: Sequence[TaxRateView]) -> list[TaxChoice]:
    return [TaxChoice(rate.public_id, rate.name, rate.rate_percent, rate.label) for rate in rates]


def saved_tax_choice(name: str, rate_percent: Decimal) -> TaxChoice:
    """A saved line's tax that is no longer among the named rates, kept as it was."""
    key = f"saved:{name}:{rate_percent.normalize():f}"
    return TaxChoice(key, name, rate_percent, f"{name or _('Tax')} {rate_percent.normalize():f} %")


class LineItems:
    """The lines of a document being edited, with Add line, remove buttons and live totals.

    ``lines()`` reads every line and marks the wrong ones; the totals shown are always those
    ``services.totals.document_totals`` gives for the lines that can be read.
    """

    def __init__(
        self,
        *,
        currency: str,
        locale: str,
        choices: Sequence[TaxChoice],
        default_tax: str,
        lines: Sequence[LineText] = (),
    ) -> None:
        self.currency = currency
        self.locale = locale
        self.choices = {choice.key: choice for choice in choices}
        self.default_tax = default_tax
        self.rows: list[_LineRow] = []
        with ui.column().classes("w-full gap-2").mark("line-items") as self.container:
            with ui.row().classes("w-full gap-2 text-xs uppercase tracking-wide text-grey-7 max-md:hidden"):
                ui.label(_("Description")).classes("flex-1")
                for title, width in _HEADINGS:
                    ui.label(_(title)).classes(f"{width} text-end")
                ui.element("div").classes("w-10")
            self.list = ui.column().classes("w-full gap-3")
        ui.button(_("Add line"), icon="add", on_click=lambda: self.add()).props("flat no-caps").mark(
            "add-line"
        )
        with ui.row().classes("w-full justify-end"):
            with ui.grid(columns="auto auto").classes("gap-x-8 gap-y-1 text-sm min-w-[16rem]"):
                self.figures: dict[str, ui.label] = {}
                for name, label in (
                    ("subtotal", _("Subtotal")),
                    ("discount", _("Discount")),
                    ("tax", _("Tax")),
                    ("total", _("Total")),
                ):
                    bold = " font-semibold text-base" if name == "total" else ""
                    ui.label(label).classes(f"text-end text-grey-8{bold}")
                    self.figures[name] = (
                        ui.label().classes(f"text-end tabular-nums{bold}").mark(f"totals-{name}")
                    )
        self.totals_message = (
            ui.label()
            .classes("w-full text-end text-sm text-negative")
            .props("role=alert")
            .mark("totals-message")
        )
        for line in lines or [LineText(tax_key=default_tax)]:
            self.add(line)
        self.refresh()

    def add(self, line: LineText | None = None) -> None:
        with self.list:
            self.rows.append(_LineRow(self, line or LineText(tax_key=self.default_tax)))
        self.refresh()

    def remove(self, row: _LineRow) -> None:
        self.rows.remove(row)
        self.list.remove(row.element)
        self.refresh()

    def set_currency(self, currency: str) -> None:
        self.currency = currency
        self.refresh()

    def refresh(self) -> None:
        """Recompute each line's amount and the totals; say live what is wrong with a number typed."""
        readable: list[LineInput] = []
        for position, row in enumerate(self.rows, start=1):
            if row.is_blank():
                row.show(None, "")
                continue
            try:
                line = row.read()
            except InvalidDetails as error:
                row.show(None, row.typed_problem(error.errors))  # "Enter a rate." waits for Save
                continue
            # A line still being typed has no description yet; its amounts count all the same.
            counted = line if line.description else replace(line, description="-")
            problem = line_problem(counted, position, self.currency, self.locale)
            if problem:
                row.show(None, problem)
                continue
            readable.append(counted)
            row.show(document_totals([counted], self.currency).subtotal, "")
        totals = document_totals(readable, self.currency)
        self.totals_message.text = totals_problem(readable, self.currency, self.locale) or ""
        self.figures["subtotal"].text = self._money(totals.subtotal)
        self.figures["discount"].text = "-" + self._money(totals.discount) if totals.discount else "-"
        self.figures["tax"].text = self._money(totals.tax)
        self.figures["total"].text = self._money(totals.total)

    def lines(self) -> list[LineInput] | None:
        """Every line read and checked; None (each wrong line marked) if any cannot be saved.

        A line left entirely empty is skipped, so an unused last line does not stop a save.
        """
        lines: list[LineInput] = []
        wrong = False
        for position, row in enumerate(self.rows, start=1):
            if row.is_blank():
                row.show(None, "")
                continue
            try:
                line = row.read()
            except InvalidDetails as error:
                row.show(None, next(iter(error.errors.values()), ""))
                wrong = True
                continue
            problem = line_problem(line, position, self.currency, self.locale)
            if problem:
                row.show(None, problem)
                wrong = True
                continue
            lines.append(line)
        if wrong:
            return None
        self.totals_message.text = totals_problem(lines, self.currency, self.locale) or ""
        return None if self.totals_message.text else lines

    def show_errors(self, errors: dict[str, str]) -> None:
        """Messages from the service, keyed ``line 1`` ..., beside their lines."""
        for position, row in enumerate(self.rows, start=1):
            if line_key(position) in errors:
                row.message.text = errors[line_key(position)]

    def _money(self, money: Money) -> str:
        return format_money(money, self.locale)


_HEADINGS = (
    (N_("Quantity"), "w-24"),
    (N_("Rate"), "w-32"),
    (N_("Tax"), "w-40"),
    (N_("Discount %"), "w-24"),
    (N_("Amount"), "w-28"),
)


class _LineRow:
    def __init__(self, owner: LineItems, text: LineText) -> None:
        self.owner = owner
        options = {NO_TAX: _("No tax"), **{key: choice.label for key, choice in owner.choices.items()}}
        description, tax_rate = _("Description"), _("Tax rate")
        with ui.column().classes("w-full gap-0 border-b pb-2") as self.element:
            with ui.row().classes("w-full items-start gap-2 max-md:flex-wrap md:flex-nowrap"):
                self.description = (
                    ui.textarea(value=text.description, placeholder=description)
                    .props(f'outlined dense autogrow rows=1 maxlength=5000 aria-label="{description}"')
                    .classes("flex-1 max-md:w-full max-md:basis-full")
                    .mark("line-description")
                )
                self.quantity = self._number(text.quantity, _("Quantity"), "w-24", "line-quantity")
                self.rate = self._number(text.rate, _("Rate"), "w-32", "line-rate")
                self.tax = (
                    ui.select(options, value=text.tax_key if text.tax_key in options else NO_TAX)
                    .props(f'outlined dense options-dense aria-label="{tax_rate}"')
                    .classes("w-40")
                    .mark("line-tax")
                )
                self.discount = self._number(text.discount, _("Discount %"), "w-24", "line-discount")
                self.amount = ui.label().classes("w-28 text-end tabular-nums pt-2").mark("line-amount")
                remove = _("Remove line")
                ui.button(icon="delete_outline", on_click=lambda: owner.remove(self)).props(
                    f'flat round dense color=grey-7 aria-label="{remove}"'
                ).classes("w-10").mark("remove-line")
            self.message = (
                ui.label().classes("text-sm text-negative").props("role=alert").mark("line-message")
            )
        for element in (self.description, self.quantity, self.rate, self.tax, self.discount):
            element.on_value_change(lambda _: owner.refresh())

    def _number(self, value: str, label: str, width: str, marker: str) -> ui.input:
        return (
            ui.input(value=value, placeholder=label)
            .props(f'outlined dense input-class=text-end inputmode=decimal aria-label="{label}"')
            .classes(width)
            .mark(marker)
        )

    def is_blank(self) -> bool:
        return not any(
            str(element.value or "").strip() for element in (self.description, self.rate, self.discount)
        )

    def typed_problem(self, errors: dict[str, str]) -> str:
        """The first message about a field with something typed in it."""
        fields = {"quantity": self.quantity, "rate": self.rate, "discount": self.discount}
        typed = [message for key, message in errors.items() if str(fields[key].value or "").strip()]
        return typed[0] if typed else ""

    def read(self) -> LineInput:
        choice = self.owner.choices.get(str(self.tax.value or NO_TAX))
        return parse_line(
            description=str(self.description.value or ""),
            quantity=str(self.quantity.value or ""),
            rate=str(self.rate.value or ""),
            discount_percent=str(self.discount.value or ""),
            tax_name=choice.name if choice else "",
            tax_rate_percent=choice.rate_percent if choice else Decimal(0),
            currency=self.owner.currency,
            locale=self.owner.locale,
        )

    def show(self, amount: Money | None, message: str) -> None:
        self.amount.text = format_money(amount, self.owner.locale) if amount is not None else "-"
        self.message.text = message
