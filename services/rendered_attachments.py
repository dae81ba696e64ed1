"""Attachments an e-mail's sender renders when it sends it: a receipt's PDF, an invoice's PDF.

A payment's booking only names the document (``receipt_attachment``); rendering a PDF there would hold
the payment's transaction, and the lock every receipt's number shares, for as long as the PDF takes. A
payment reminder names its invoice the same way (``invoice_attachment``), so that the reminder job
renders no PDFs. The sender renders each (``services.attachment_rendering``) in the language and time
zone the e-mail was written in, once: the content is kept with the message, so a retry sends the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.outbox import Attachment

RECEIPT = "receipt"
INVOICE = "invoice"
MAX_SPEC = 100  # models.outbox.OutboxAttachment.rendered_from


@dataclass(frozen=True)
class DocumentSpec:
    kind: str  # RECEIPT or INVOICE
    client_id: int
    public_id: str  # the payment's or the invoice's
    language: str
    time_zone: str  # "" for the business's


def receipt_attachment(
    client_id: int, payment_public_id: str, receipt_number: str, language: str, time_zone: str
) -> Attachment:
    """The receipt's PDF, to be rendered by the sender for a reader of ``language`` in ``time_zone``."""
    spec = _spec(RECEIPT, client_id, payment_public_id, language, time_zone)
    return Attachment(f"Receipt-{receipt_number}.pdf", "application/pdf", b"", rendered_from=spec)


def invoice_attachment(
    client_id: int, invoice_public_id: str, invoice_number: str, language: str, time_zone: str
) -> Attachment:
    """The invoice's PDF (as it stands when the e-mail is sent), to be rendered by the sender."""
    spec = _spec(INVOICE, client_id, invoice_public_id, language, time_zone)
    return Attachment(f"{invoice_number}.pdf", "application/pdf", b"", rendered_from=spec)


def _spec(kind: str, client_id: int, public_id: str, language: str, time_zone: str) -> str:
    spec = f"{kind}:{client_id}:{public_id}:{language}:{time_zone}"
    if len(spec) > MAX_SPEC:  # an unusually long zone name: the business's own is used instead
        spec = f"{kind}:{client_id}:{public_id}:{language}:"
    return spec


def read_spec(spec: str) -> DocumentSpec:
    """What ``receipt_attachment`` or ``invoice_attachment`` wrote; ``ValueError`` for anything else."""
    kind, _, rest = spec.partition(":")
    parts = rest.split(":", 3)
    if kind not in (RECEIPT, INVOICE) or len(parts) != 4 or not parts[0].isdecimal():
        raise ValueError(f"no such rendered attachment: {spec!r}")
    client_id, public_id, language, time_zone = parts
    return DocumentSpec(kind, int(client_id), public_id, language, time_zone)
