"""Status badges: one colour per invoice status, the same in lists and on documents.

Every colour carries white text at 4.5:1 or more (WCAG AA for small text). A badge is a plain label,
not a live region: ``components.theme`` takes Quasar's ``role="status"`` off every ``ui.badge``; in a
table's slot template write ``:role="null"`` and the text as the badge's content (Quasar's ``label``
prop would also set an ``aria-label``, which an element without a role may not carry).
"""

from __future__ import annotations

from nicegui import ui

from services.i18n.terms import term

STATUS_COLORS = {
    "Draft": "grey-7",
    "Sent": "blue-grey-8",
    "Viewed": "blue-9",
    "Partially Paid": "teal-9",
    "Paid": "green-9",
    "Void": "grey-9",
    "Overdue": "red-9",
    # A credit note's (services.credit_notes.STATUS_LABELS): credit left to use, or all of it used
    "Open": "teal-9",
    "Used": "grey-7",
    # A quote's (services.quote_documents.STATUS_LABELS, EXPIRED_LABEL); Draft and Sent as above
    "Accepted": "green-9",
    "Declined": "grey-9",
    "Expired": "red-9",
}


def status_color(label: str) -> str:
    return STATUS_COLORS.get(label, "grey-8")


def status_badge(label: str) -> ui.badge:
    # The English label is the colour's key; the badge shows it in the reader's language.
    return ui.badge(term(label), color=status_color(label)).classes("text-sm px-2 py-1").props("rounded")
