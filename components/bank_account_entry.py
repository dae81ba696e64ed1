"""The bank account form of the Pay page and of a pay link's page: account holder, IBAN (grouped in
fours as it is typed, in the browser), the e-mail the bank's notices go to, and the mandate."""

from __future__ import annotations

from nicegui import ui

from components.card_entry import field
from services.gateways.base import BankAccountDetails
from services.i18n import N_, _

MANDATE = N_(
    "By accepting this mandate you authorise {business} to send instructions to your bank to debit your "
    "account, and your bank to debit your account in accordance with those instructions. You are "
    "entitled to a refund from your bank within eight weeks of the date your account was debited."
)
# Quasar's mask: letters and digits in groups of four, capitals, up to an IBAN's 34 characters.
IBAN_MASK = " ".join(["XXXX"] * 8 + ["XX"])


class BankAccountEntry:
    def __init__(self, business: str, email: str, *, can_save: bool) -> None:
        self.holder = field(_("Account holder"), "name", mark="account-holder")
        self.iban = field(_("IBAN"), "off", mark="account-iban").props(f'mask="{IBAN_MASK}"')
        self.email = field(_("E-mail"), "email", value=email).props("type=email").mark("account-email")
        ui.label(_(MANDATE).format(business=business)).classes("text-xs text-grey-8")
        self.mandate = ui.checkbox(_("I accept the direct debit mandate")).mark("account-mandate")
        self.save = ui.checkbox(_("Use this account for future transactions")) if can_save else None

    @property
    def saves(self) -> bool:
        return self.save is not None and bool(self.save.value)

    def details(self) -> BankAccountDetails:
        return BankAccountDetails(
            holder_name=str(self.holder.value or ""),
            iban=str(self.iban.value or ""),
            email=str(self.email.value or ""),
            mandate_accepted=bool(self.mandate.value),
        )
