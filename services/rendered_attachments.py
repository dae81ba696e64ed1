"""Attachments an e-mail's sender renders when it sends it: a receipt's PDF.

A payment's booking only names the document (``receipt_attachment``); rendering a PDF there would hold
the payment's transaction, and the lock every receipt's number shares, for as long as the PDF takes.
The sender renders it (``services.attachment_rendering``) in the language and time zone the e-mail was
written in, once: the content is kept with the message, so a retry sends the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.outbox import Attachment

RECEIPT = "receipt"
MAX_SPEC = 100  # models.outbox.OutboxAttachment.rendered_from


@dataclass(frozen=True)
class ReceiptSpec:
    client_id: int
    payment_public_id: str
    language: str
    time_zone: str  # "" for the business's


def receipt_attachment(
    client_id: int, payment_public_id: str, receipt_number: str, language: str, time_zone: str
) -> Attachment:
    """The receipt's PDF, to be rendered by the sender for a reader of ``language`` in ``time_zone``."""
    spec = f"{RECEIPT}:{client_id}:{payment_public_id}:{language}:{time_zone}"
    if len(spec) > MAX_SPEC:  # an unusually long zone name: the business's own is used instead
        spec = f"{RECEIPT}:{client_id}:{payment_public_id}:{language}:"
    return Attachment(f"Receipt-{receipt_number}.pdf", "application/pdf", b"", rendered_from=spec)


def read_spec(spec: str) -> ReceiptSpec:
    """What ``receipt_attachment`` wrote; ``ValueError`` for anything else."""
    kind, _, rest = spec.partition(":")
    parts = rest.split(":", 3)
    if kind != RECEIPT or len(parts) != 4 or not parts[0].isdecimal():
        raise ValueError(f"no such rendered attachment: {spec!r}")
    client_id, payment_public_id, language, time_zone = parts
    return ReceiptSpec(int(client_id), payment_public_id, language, time_zone)
