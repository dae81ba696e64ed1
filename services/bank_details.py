"""The business's tax number and bank account as typed in Settings > Business, checked and written the
way invoices print them.

An IBAN is checked with schwifty (country, length, check digits, the country's own structure) and kept
compact ("DE89370400440532013000"); it is printed in groups of four. A tax number is kept as typed
(spaces tidied): it may be a VAT identification number ("DE123456789", the kind an e-invoice needs) or
a national tax number ("12/345/67890").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from services.i18n import _

MAX_TAX_ID_LENGTH = 50
MAX_BANK_NAME_LENGTH = 100
_TAX_ID = re.compile(r"[0-9A-Za-z .\-/]*")
# A VAT identification number: the country's two letters, then 2 to 14 letters and digits (EU, the UK,
# Switzerland's CHE..., Norway's ...MVA), once the spaces, dots, dashes and slashes are taken out.
_VAT_ID = re.compile(r"[A-Z]{2}[0-9A-Z+*]{2,14}")
_SEPARATORS = str.maketrans("", "", " .-/")


@dataclass(frozen=True)
class BankDetails:
    """Where a customer sends a bank transfer: the IBAN compact, the BIC and the bank's name optional."""

    iban: str
    bic: str = ""
    bank_name: str = ""

    @property
    def iban_grouped(self) -> str:
        """The IBAN in groups of four, as banks print it: "DE89 3704 0044 0532 0130 00"."""
        return grouped_iban(self.iban)


def clean_iban(text: str) -> tuple[str, str]:
    """(the IBAN compact, "") or ("", what is wrong with it); an empty field is no IBAN, and no error."""
    text = text.strip()
    if not text:
        return "", ""
    try:
        return IBAN(text).compact, ""
    except InvalidChecksumDigits:
        return "", _("The IBAN's check digits do not match: compare it with your bank statement.")
    except InvalidCountryCode:
        return "", _("An IBAN starts with its country's two-letter code, like DE or FR.")
    except InvalidLength:
        return "", _("This IBAN has too few or too many characters for its country.")
    except SchwiftyException:
        return "", _("This is not a valid IBAN: compare it with your bank statement.")


def clean_bic(text: str) -> tuple[str, str]:
    """(the BIC in capitals, "") or ("", what is wrong with it); an empty field is no error."""
    text = text.strip()
    if not text:
        return "", ""
    try:
        return BIC(text).compact, ""
    except SchwiftyException:
        return "", _("A BIC has 8 or 11 letters and digits, like DEUTDEFF or DEUTDEFF500.")


def clean_tax_id(text: str) -> tuple[str, str]:
    """(the tax number with its spaces tidied, "") or ("", what is wrong with it)."""
    text = " ".join(text.split())
    if len(text) > MAX_TAX_ID_LENGTH:
        return "", _("Use at most {count} characters.").format(count=MAX_TAX_ID_LENGTH)
    if not _TAX_ID.fullmatch(text):
        return "", _("Use only letters, digits, spaces and - . /")
    return text, ""


def vat_id(tax_id: str) -> str:
    """``tax_id`` as a VAT identification number ("DE123456789"), or "" when it does not look like one."""
    compact = tax_id.upper().translate(_SEPARATORS)
    return compact if _VAT_ID.fullmatch(compact) else ""


def grouped_iban(iban: str) -> str:
    return " ".join(iban[start : start + 4] for start in range(0, len(iban), 4))
