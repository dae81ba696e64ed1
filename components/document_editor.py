"""What the back office's document editors share (the invoice draft's, the quote's and the recurring
profile's): the clients and tax rates to choose from, the client field with its currency, date fields,
notes and terms, a saved line as the line items show it, and saving with the service's refusal shown
beside each field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from nicegui import ui

from components.banner import banner
from components.branding import business_branding
from components.line_items import NO_TAX, LineItems, LineText, TaxChoice, saved_tax_choice, tax_choices
from components.offload import io_bound
from services import portal
from services.amount_input import amount_text, number_text
from services.branding import Branding
from services.business_documents import LineView
from services.clients import ClientView, list_clients
from services.draft_invoices import DraftDefaults, draft_defaults
from services.errors import DomainError, InvalidDetails, human_message
from services.i18n import N_, _
from services.money import Money
from services.staff_auth import StaffPrincipal
from services.tax_rates import list_tax_rates

MAX_CLIENTS_OFFERED = 2000
NOT_SAVED = N_("Nothing was saved: please correct what is marked in red.")
GENERAL_PROBLEMS = ("lines", "notes", "terms")  # the service's keys said in the banner, not beside a field

T = TypeVar("T")


@dataclass(frozen=True)
class EditorContext:
    branding: Branding
    clients: list[ClientView]
    choices: list[TaxChoice]
    default_tax: str
    defaults: DraftDefaults


async def load_editor_context(staff: StaffPrincipal, lines: Sequence[LineView] = ()) -> EditorContext:
    """The business's clients, tax rates (with the saved ``lines``' rates no longer named) and defaults."""
    current = portal.current()
    branding = await business_branding(current.db)
    clients = await io_bound(_all_clients, staff.organization_id)
    rates = await io_bound(list_tax_rates, current.db, staff.organization_id)
    defaults = await io_bound(draft_defaults, current.db, staff.organization_id, now=current.clock())
    choices = tax_choices(rates)
    for line in lines:
        if line.tax_rate_percent and choice_for(choices, line.tax_name, line.tax_rate_percent) is None:
            choices.append(saved_tax_choice(line.tax_name, line.tax_rate_percent))
    default = next((rate.public_id for rate in rates if rate.is_default), NO_TAX)
    return EditorContext(branding, clients, choices, default, defaults)


def _all_clients(organization_id: int) -> list[ClientView]:
    db = portal.current().db
    clients: list[ClientView] = []
    after: int | None = None
    while len(clients) < MAX_CLIENTS_OFFERED:
        page = list_clients(db, organization_id, after_id=after, limit=100)
        clients += page.clients
        if page.next_after_id is None:
            break
        after = page.next_after_id
    return sorted(clients, key=lambda client: client.display_name.lower())


def choice_for(choices: list[TaxChoice], name: str, rate: Decimal) -> TaxChoice | None:
    return next((c for c in choices if c.name == name and c.rate_percent == rate), None)


class ClientField:
    """The client to bill, searchable, with its currency (every document of a client is in it) below."""

    def __init__(self, clients: Sequence[ClientView], chosen: str) -> None:
        self.currencies = {client.public_id: client.currency for client in clients}
        options = {client.public_id: client.display_name for client in clients}
        with ui.column().classes("gap-0 w-full sm:w-80"):
            self.select = (
                ui.select(
                    options, value=chosen if chosen in options else None, label=_("Client"), with_input=True
                )
                .props("outlined dense options-dense")
                .classes("w-full")
                .mark("client")
            )
            self.currency_label = ui.label().classes("text-sm text-grey-8 pt-1").mark("client-currency")
            self.error = field_error("client-error")

    @property
    def value(self) -> str:
        return str(self.select.value or "")

    def currency(self) -> str:
        return self.currencies.get(self.value, "") or "USD"

    def show_currency(self) -> None:
        chosen = self.value
        self.currency_label.text = (
            _("Currency: {currency}").format(currency=self.currencies[chosen])
            if chosen in self.currencies
            else ""
        )


class NotesAndTerms:
    """The document's notes and terms, side by side on a wide screen."""

    def __init__(self, notes: str, terms: str) -> None:
        with ui.card().classes("w-full gap-2").props("flat bordered"):
            with ui.row().classes("w-full gap-4 max-md:flex-col"):
                self.notes = (
                    ui.textarea(_("Notes"), value=notes)
                    .props("outlined autogrow maxlength=5000")
                    .classes("flex-1 w-full")
                    .mark("notes")
                )
                self.terms = (
                    ui.textarea(_("Terms"), value=terms)
                    .props("outlined autogrow maxlength=5000")
                    .classes("flex-1 w-full")
                    .mark("terms")
                )


def field_error(marker: str) -> ui.label:
    return ui.label().classes("text-sm text-negative").props("role=alert").mark(marker)


def date_input(label: str, value: date, marker: str) -> ui.input:
    return (
        ui.input(label, value=value.isoformat())
        .props("outlined dense type=date")
        .classes("w-full")
        .mark(marker)
    )


def parse_day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value or ""))
    except ValueError:
        return None


def line_text(line: LineView, choices: list[TaxChoice], currency: str, locale: str) -> LineText:
    """A saved line as the editor shows it, its numbers written as ``locale`` writes them."""
    choice = choice_for(choices, line.tax_name, line.tax_rate_percent) if line.tax_rate_percent else None
    return LineText(
        description=line.description,
        quantity=number_text(line.quantity, locale),
        rate=amount_text(Money(line.unit_price_minor, currency), locale),
        tax_key=choice.key if choice else NO_TAX,
        discount=number_text(line.discount_percent, locale) if line.discount_percent else "",
    )


def show_failure(message: ui.element, text: str) -> None:
    """The banner above the Save button saying why nothing was saved."""
    message.clear()
    with message:
        banner("negative", text)


async def save_document(
    save: Callable[[], Awaitable[T]],
    *,
    button: ui.button,
    message: ui.element,
    items: LineItems,
    fields: Mapping[str, ui.label],
    locale: str,
    general: Sequence[str] = GENERAL_PROBLEMS,
) -> T | None:
    """Run ``save`` with the Save button off; None if the service refused it: then each refused field says
    why beside it (``fields``: the service's error key -> the field's message label), each line beside
    that line, the ``general`` problems in the banner (or that nothing was saved)."""
    button.disable()
    try:
        return await save()
    except InvalidDetails as error:
        for key, label in fields.items():
            label.text = error.errors.get(key, "")
        items.show_errors(error.errors)
        others = [text for key, text in error.errors.items() if key in general]
        show_failure(message, " ".join(others) or _(NOT_SAVED))
    except DomainError as error:
        show_failure(message, human_message(error, locale=locale))
    finally:
        button.enable()
    return None
