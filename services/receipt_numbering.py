"""A paid receipt's number, written into the payment and its two messages, with the row every receipt
shares held as briefly as the database allows.

The number is taken from the receipts' sequence row (``services.numbering``), which stays locked from
then until the commit: every other payment being booked waits for it. Taken first and then written
into the payment and the messages, it was held over three or four more round trips to the database,
each of which, with fifty customers paying at once, also waited for Python's interpreter lock: 10-15 ms
per payment, one payment after another.

On PostgreSQL the messages are written first with ``RECEIPT_NUMBER`` in place of the number, and one
statement then takes the number and puts it in the payment, the messages and the PDF's file name; the
commit follows at once. On SQLite, whose write lock is the whole database's from the transaction's
first write anyway, the number is taken and the messages queued with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Payment
from services.payment_notices import RECEIPT_NUMBER, PreparedReceipt
from services.payments import number_receipt

# The number as ``services.numbering.next_number`` writes it: the prefix, then the value with zeros in
# front up to the sequence's width (never cut: lpad would shorten a longer value).
_NUMBER_EVERYWHERE = text(
    """
    WITH taken AS (
        UPDATE number_sequences SET next_value = next_value + 1
        WHERE organization_id = :organization_id AND kind = 'receipt'
        RETURNING prefix || CASE
            WHEN length((next_value - 1)::text) >= width THEN (next_value - 1)::text
            ELSE lpad((next_value - 1)::text, width, '0')
        END AS number
    ), payment AS (
        UPDATE payments SET receipt_number = taken.number FROM taken
        WHERE payments.id = :payment_id
        RETURNING taken.number
    ), messages AS (
        UPDATE outbox_emails
        SET subject = replace(subject, :placeholder, payment.number),
            body_text = replace(body_text, :placeholder, payment.number)
        FROM payment
        WHERE outbox_emails.id = ANY(CAST(:email_ids AS integer[]))
        RETURNING outbox_emails.id
    ), files AS (
        UPDATE outbox_attachments SET filename = replace(filename, :placeholder, payment.number)
        FROM payment
        WHERE outbox_attachments.email_id = ANY(CAST(:email_ids AS integer[]))
        RETURNING outbox_attachments.id
    )
    SELECT number, (SELECT count(*) FROM messages) AS messages FROM payment
    """
)


def number_and_queue(session: Session, payment: Payment, receipt: PreparedReceipt, now: datetime) -> str:
    """Number the settled ``payment``'s receipt and queue its messages with the number: the last thing
    its transaction does before the commit (nothing slow may follow). Returns the number.

    On PostgreSQL the transaction's writes still pending go in first, with the messages, in one flush.
    """
    if session.get_bind().dialect.name != "postgresql":
        number_receipt(session, payment)
        receipt.queue(session, str(payment.receipt_number), now)
        return str(payment.receipt_number)
    emails = receipt.queue(session, RECEIPT_NUMBER, now)
    session.flush()  # the messages, with the placeholder, and every other write: before the number
    email_ids = [email.id for email in emails]
    row = session.execute(
        _NUMBER_EVERYWHERE,
        {
            "organization_id": payment.organization_id,
            "payment_id": payment.id,
            "placeholder": RECEIPT_NUMBER,
            "email_ids": email_ids,
        },
    ).one_or_none()
    if row is None:  # the business's first receipt: its sequence's row is made with the number
        number_receipt(session, payment)
        number = str(payment.receipt_number)
        for email in emails:
            email.subject = email.subject.replace(RECEIPT_NUMBER, number)
            email.body_text = email.body_text.replace(RECEIPT_NUMBER, number)
            for attachment in email.attachments:
                attachment.filename = attachment.filename.replace(RECEIPT_NUMBER, number)
        return number
    if row.messages != len(email_ids):
        raise RuntimeError(f"the receipt's number reached {row.messages} of its {len(email_ids)} messages")
    number = str(row.number)
    set_committed_value(payment, "receipt_number", number)  # written already: not again at the flush
    for email in emails:  # what the session holds, as the statement left the rows
        set_committed_value(email, "subject", email.subject.replace(RECEIPT_NUMBER, number))
        set_committed_value(email, "body_text", email.body_text.replace(RECEIPT_NUMBER, number))
        for attachment in email.attachments:
            set_committed_value(attachment, "filename", attachment.filename.replace(RECEIPT_NUMBER, number))
    return number
