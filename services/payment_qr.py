"""The EPC QR code ("GiroCode", "QR-code SEPA") of an invoice: a banking app that scans it fills in a SEPA
credit transfer of the balance due to the business's IBAN, with the invoice number as its reference.

The European Payments Council's format (version 002, UTF-8) is written by ``segno.helpers.make_epc_qr``.
It is made only for a euro balance due to a business that set its IBAN (``InvoiceDocument.pays_by_epc_qr``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO

import segno
from segno import helpers

from services.invoice_detail import InvoiceDocument

MAX_NAME = 70  # the EPC format's longest beneficiary name
MAX_AMOUNT_MINOR = 99_999_999_999  # EUR 999,999,999.99, the most one transfer can carry
QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


@dataclass(frozen=True)
class EpcTransfer:
    """What the code asks the payer's bank to do."""

    name: str
    iban: str
    bic: str
    amount_minor: int  # euro cents
    text: str  # the unstructured remittance information: the invoice number


def epc_transfer(document: InvoiceDocument) -> EpcTransfer | None:
    """The transfer an invoice's EPC QR code carries, or None when the invoice has no code."""
    if not document.pays_by_epc_qr or document.bank is None:
        return None
    if document.balance_due.minor > MAX_AMOUNT_MINOR:
        return None  # more than one SEPA transfer may carry: the bank details are printed all the same
    name = (document.business.company or document.business.name).strip()[:MAX_NAME]
    return EpcTransfer(
        name, document.bank.iban, document.bank.bic, document.balance_due.minor, document.number
    )


def epc_qr(transfer: EpcTransfer) -> segno.QRCode:
    """The QR code of ``transfer`` (error correction M, as the EPC format requires)."""
    return helpers.make_epc_qr(
        name=transfer.name,
        iban=transfer.iban,
        amount=Decimal(transfer.amount_minor).scaleb(-2),  # never a float for money
        text=transfer.text,
        bic=transfer.bic or None,
        encoding="utf-8",
    )


def epc_qr_png(transfer: EpcTransfer, *, scale: int = 4) -> bytes:
    """The code as a black and white PNG, ``scale`` pixels a module, with its quiet zone."""
    out = BytesIO()
    epc_qr(transfer).save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


def epc_qr_data_url(transfer: EpcTransfer) -> str:
    """The code as an SVG data URL, for a page."""
    return str(epc_qr(transfer).svg_data_uri(scale=4, border=QUIET_ZONE))
