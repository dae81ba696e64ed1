"""Status badges: one colour per invoice status, the same in lists and on documents."""

from __future__ import annotations

from nicegui import ui

STATUS_COLORS = {
    "Draft": "grey-6",
    "Sent": "blue-grey-6",
    "Viewed": "blue-7",
    "Partially Paid": "teal-7",
    "Paid": "green-7",
    "Void": "grey-7",
    "Overdue": "red-7",
}


def status_color(label: str) -> str:
    return STATUS_COLORS.get(label, "grey-7")


def status_badge(label: str) -> ui.badge:
    return ui.badge(label, color=status_color(label)).classes("text-sm px-2 py-1").props("rounded")
