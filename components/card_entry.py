"""The card form of the Pay page and of a pay link's page: one component, so both behave the same.

The number is grouped as it is typed by Quasar's input mask, in the browser, with no wait for the
server. Its brand is told from the first digits (``services.card_input.card_brand``) when the typed
value reaches the server, as every change of an input does anyway, and is shown in words inside the
field; American Express switches the mask to the 4-6-5 groups its cards print. The expiry is read
however people write it ("12/29", "1229", "12 / 2029") and shown back as the card prints it when the
field is left, or said to be unreadable there and then. The billing address comes filled in from the
client's account. With Stripe, number, expiry and CVC are typed into Stripe's element instead
(``components.stripe_card``); the name and the billing address are ours either way.
"""

from __future__ import annotations

from typing import Any

from nicegui import ui

from components.countries import country_options
from components.field_errors import show_field_error
from components.stripe_card import CardSetupAnswer, StripeCardField
from services.account_details import AddressInput
from services.card_input import EXPIRY_UNREADABLE, card_brand, expiry_text, number_groups, read_expiry
from services.errors import InvalidPaymentDetails
from services.gateways.base import BillingAddress, CardDetails, PaymentGateway
from services.gateways.stripe_gateway import StripeGateway
from services.gateways.switch import unwrap
from services.i18n import _

MAX_DIGITS = 19  # the longest card numbers there are (ISO/IEC 7812)


class CardEntry:
    """Card number with its brand, expiry, CVV, name on card, billing address and country, and (for a
    customer who can keep cards) "Save this card for future payments"."""

    def __init__(self, gateway: PaymentGateway, address: AddressInput, *, can_save: bool) -> None:
        running = unwrap(gateway)  # the gateway running now, behind the portal's switch
        self.stripe_card: StripeCardField | None = None
        if isinstance(running, StripeGateway):
            self.stripe_card = StripeCardField(running.publishable_key, running.js_url)
            ui.timer(0, self.stripe_card.mount, once=True)  # runs once the browser is connected
        else:
            self.brand = ""
            self.number = field(_("Card number"), "cc-number", mark="card-number")
            self.number.props(f'inputmode=numeric mask="{number_mask("")}"')
            with self.number.add_slot("append"):
                # Words, not a logo alone: read out with the field, and announced when it changes.
                self.brand_label = (
                    ui.label().classes("text-sm font-semibold text-grey-9").props('aria-live="polite"')
                ).mark("card-brand")
            self.number.on_value_change(self.number_changed)
            with ui.row().classes("w-full gap-2 no-wrap"):
                self.expiry = field(_("Expiry (MM/YY)"), "cc-exp", mark="card-expiry").classes("flex-1")
                self.expiry.props("inputmode=numeric").on("blur", self.expiry_left)
                self.cvc = field(_("CVV"), "cc-csc", mark="card-cvc").classes("flex-1")
                self.cvc.props("inputmode=numeric maxlength=4")
        self.name = field(_("Name on card"), "cc-name", mark="card-name")
        self.address = AddressFields(address)
        self.save = ui.checkbox(_("Save this card for future payments")) if can_save else None

    @property
    def saves(self) -> bool:
        return self.save is not None and bool(self.save.value)

    def number_changed(self) -> None:
        typed = str(self.number.value or "")
        brand = card_brand(typed)
        if brand != self.brand:
            self.brand = brand
            self.brand_label.text = brand
            self.number.props(f'mask="{number_mask(typed)}"')

    def expiry_left(self) -> None:
        """Show the expiry back as the card prints it, or say at once that it cannot be read."""
        typed = str(self.expiry.value or "").strip()
        month, year = read_expiry(typed)
        if typed and not 1 <= month <= 12:
            show_field_error(self.expiry, _(EXPIRY_UNREADABLE))
            return
        show_field_error(self.expiry, "")
        if typed:
            self.expiry.value = expiry_text(month, year)

    def card_details(self) -> CardDetails:
        """The card typed into the sandbox's fields; ``InvalidPaymentDetails`` for an expiry that cannot
        be read (nothing is charged)."""
        month, year = read_expiry(str(self.expiry.value or ""))
        if not 1 <= month <= 12:
            self.expiry_left()
            raise InvalidPaymentDetails("expiry", EXPIRY_UNREADABLE)
        return CardDetails(
            number=str(self.number.value or ""),
            exp_month=month,
            exp_year=year,
            cvc=str(self.cvc.value or "").strip(),
            holder_name=self.holder_name,
            billing_address=self.address.read(),
        )

    @property
    def holder_name(self) -> str:
        return str(self.name.value or "").strip()

    async def confirm_setup(self, client_secret: str) -> CardSetupAnswer:
        """Stripe: the card typed into its element, with our name and address, becomes a PaymentMethod."""
        assert self.stripe_card is not None  # noqa: S101 - only called with the Stripe gateway
        address = self.address.read()
        fields = {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "state": address.region,
            "postal_code": address.postal_code,
            "country": address.country,
        }
        billing: dict[str, Any] = {"name": self.holder_name}
        if any(fields.values()):
            billing["address"] = {key: value for key, value in fields.items() if value}
        return await self.stripe_card.confirm_setup(client_secret, billing)


class AddressFields:
    """Billing address, address line 2, city, state or region, postal code and country, filled in."""

    def __init__(self, address: AddressInput) -> None:
        self.line1 = field(_("Billing address"), "billing address-line1", value=address.line1)
        self.line1.mark("billing-line1")
        self.line2 = field(_("Address line 2"), "billing address-line2", value=address.line2)
        with ui.row().classes("w-full gap-2 no-wrap"):
            self.city = field(_("City"), "billing address-level2", value=address.city).classes("flex-1")
            self.city.mark("billing-city")
            self.region = field(_("State or region"), "billing address-level1", value=address.region)
            self.region.classes("flex-1")
        with ui.row().classes("w-full gap-2 no-wrap"):
            self.postal_code = field(_("Postal code"), "billing postal-code", value=address.postal_code)
            self.postal_code.classes("min-w-0").style("flex: 1 1 0").mark("billing-postal-code")
            country = address.country if address.country in country_options() else None
            self.country = (
                ui.select(country_options(), label=_("Country"), value=country, with_input=True)
                .props('outlined dense autocomplete="billing country"')
                .classes("min-w-0")
                .style("flex: 2 1 0")  # country names are longer than postal codes
                .mark("billing-country")
            )

    def read(self) -> BillingAddress:
        return BillingAddress(
            line1=str(self.line1.value or "").strip(),
            line2=str(self.line2.value or "").strip(),
            city=str(self.city.value or "").strip(),
            region=str(self.region.value or "").strip(),
            postal_code=str(self.postal_code.value or "").strip(),
            country=str(self.country.value or ""),
        )


def number_mask(typed: str) -> str:
    """Quasar's mask for a card number: a ``#`` per digit in the groups the card prints, with room for
    19 digits whatever the brand. The mask for a new brand comes from the server a moment after the
    digits that tell it: digits typed or pasted meanwhile must not be cut off by the old brand's mask
    (15 digits for American Express)."""
    groups = list(number_groups(typed))
    if sum(groups) < MAX_DIGITS:
        groups.append(MAX_DIGITS - sum(groups))
    return " ".join("#" * size for size in groups)


def field(label: str, autocomplete: str, *, mark: str = "", value: str = "") -> ui.input:
    """An outlined input the browser can fill in (``autocomplete``), as every payment form field is."""
    element = ui.input(label, value=value).props(f'outlined dense autocomplete="{autocomplete}"')
    element.classes("w-full")
    return element.mark(mark) if mark else element
