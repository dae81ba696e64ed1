"""Words that reach people as data rather than as sentences in the code: statuses, payment methods,
the names of fields in error messages, notices kept as constants elsewhere.

Each is marked here for the catalogues (``N_``) and translated where it is shown, with ``term``.
"""

from __future__ import annotations

from services.i18n.messages import N_, _

TERMS = (
    # Document and payment statuses, as the services name them
    N_("draft"),
    N_("sent"),
    N_("viewed"),
    N_("partially paid"),
    N_("paid"),
    N_("void"),
    N_("overdue"),
    N_("processing"),
    N_("succeeded"),
    N_("failed"),
    N_("refunded"),
    N_("pending"),
    # Invoice statuses as labels (services.invoice_list.STATUS_LABELS, OVERDUE_LABEL)
    N_("Draft"),
    N_("Sent"),
    N_("Viewed"),
    N_("Partially Paid"),
    N_("Void"),
    N_("Overdue"),
    # Payment statuses as labels (services.payments_made.STATUS_LABELS, REFUNDED)
    N_("Processing"),
    N_("Failed"),
    N_("Refunded"),
    # Payment methods (offline ones by name)
    N_("Card"),
    N_("Bank transfer"),
    N_("Cash"),
    N_("Cheque"),
    N_("Check"),
    N_("Other"),
    N_("Bank account"),
    # Documents
    N_("invoice"),
    N_("retainer invoice"),
    N_("credit note"),
    N_("quote"),
    # A quote's statuses, and what may be done to it ("The quote QT-00001 is accepted and cannot be sent.")
    N_("accepted"),
    N_("declined"),
    N_("edited"),
    N_("payment"),
    N_("document"),
    # What a refund is asked of (services.credits.SOURCE_NAMES)
    N_("credits"),
    N_("retainer payments"),
    # How a payment reached an invoice (services.payments_made.APPLIED_KINDS)
    N_("Paid"),
    N_("Later, from its credit"),
    N_("Later, from its retainer"),
    # The names of fields and figures in error messages ("The {field} cannot be negative.")
    N_("message"),
    N_("review"),
    N_("subject"),
    N_("note"),
    N_("reason"),
    N_("amount"),
    N_("quantity"),
    N_("rate"),
    N_("discount"),
    N_("deposit"),
    N_("tax rate"),
    N_("tax"),
    N_("subtotal"),
    N_("total"),
    N_("description"),
    N_("recipient"),
    N_("recipient list"),
    N_("address"),
    N_("reply-to address"),
    # What is wrong with a field, after its name ("Line 2: the quantity must be more than zero.")
    N_("is empty"),
    N_("must be more than zero"),
    N_("cannot be negative"),
    N_("must be between 0 and 100 %"),
    N_("is too large"),
    N_("is less than the amounts allocated to invoices"),
    N_("has no address"),
    N_("contains a line break or control character"),
    N_("is missing: enter at least one e-mail address"),
    # What the payment gateways answer (services.gateways): declines and refused details, shown as given
    N_("Your card was declined."),
    N_("Your card has insufficient funds."),
    N_("Your card has expired."),
    N_("The bank refused the direct debit."),
    N_("Your bank asked to confirm this payment, which an automatic payment cannot do."),
    N_("This payment attempt was closed before it reached the payment service; nothing was charged."),
    N_("The expiry month must be between 1 and 12."),
    N_("The expiry date is in the past."),
    N_("The expiry year is too far in the future."),
    N_("The amount must be more than zero."),
    N_("Choose a card or a bank account."),
    N_("The card number is not valid."),
    N_("The CVV must be 3 or 4 digits."),
    N_("Sandbox mode accepts test cards only."),
    N_("Sandbox mode accepts test accounts only."),
    N_("Enter the account holder's name."),
    N_("This is not a valid IBAN."),
    N_("The IBAN's check digits are wrong; please check it."),
    N_("Accept the direct debit mandate to pay by bank account."),
    N_("Only a saved card's details can be changed."),
    N_("This saved payment method is not known to the sandbox."),
    N_("The sandbox takes test card numbers on the payment form."),
    N_("Card numbers are entered in the secure card form, never sent to us."),
    N_("Only a saved card's details can be changed here."),
    N_("This saved payment method is no longer available; please choose another."),
    N_("This card cannot be used; please enter it again."),
    N_("Direct debits can only be paid in euros; please pay by card."),
    # The sandbox gateway's notice (services.gateways.sandbox.SANDBOX_NOTICE)
    N_("Sandbox - no real money"),
)


def term(word: str) -> str:
    """A word that came as data, in the reader's language (as it is if the catalogues lack it)."""
    return _(word) if word else word
