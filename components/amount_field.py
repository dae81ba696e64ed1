"""An amount input read the way the page's locale writes it, saying beneath it what it reads."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from services.amount_input import amount_text, read_amount
from services.errors import InvalidNumber, human_message
from services.money import Money, format_money


class AmountField:
    """``1,50`` in a German portal, ``1.50`` in an American one; beneath it, the amount it will use
    ("You will apply 1,50 €.") or why the text cannot be used, as it is typed.

    ``read()`` gives the amount or raises ``InvalidNumber`` (a ``DomainError``), so a form shows that
    as it shows any refusal. The currency may change with the form (a client chosen).
    """

    def __init__(
        self,
        label: str,
        *,
        currency: str,
        locale: str,
        marker: str,
        echo: Callable[[str], str] = "{}".format,
        value: Money | None = None,
        props: str = "outlined",
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.currency, self.locale, self.echo = currency, locale, echo
        self.on_change: Callable[[], None] | None = None  # not while the form is still being built
        self.input = (
            ui.input(label, on_change=self.changed)
            .props(f"{props} inputmode=decimal")
            .classes("w-full")
            .mark(marker)
        )
        self.message = ui.label().classes("text-sm text-grey-8 -mt-1").mark(f"{marker}-echo")
        self.set(value)
        self.on_change = on_change

    def set(self, amount: Money | None) -> None:
        """Show ``amount`` (as the locale writes it), or nothing."""
        self.input.value = amount_text(amount, self.locale) if amount is not None else ""
        self.changed()

    def set_currency(self, currency: str) -> None:
        self.currency = currency
        self.changed()

    def read(self) -> Money:
        """The amount typed; ``InvalidNumber`` if it cannot be read without guessing."""
        return read_amount(str(self.input.value or ""), self.currency, self.locale)

    def changed(self) -> None:
        self.message.classes(remove="text-negative")
        if not self.currency or not str(self.input.value or "").strip():
            self.message.text = ""
        else:
            try:
                amount = self.read()
            except InvalidNumber as error:
                self.message.text = human_message(error, locale=self.locale)
                self.message.classes(add="text-negative")
            else:
                self.message.text = self.echo(format_money(amount, self.locale))
        if self.on_change is not None:
            self.on_change()
