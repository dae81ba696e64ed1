"""Table styling shared by the lists and documents."""

from __future__ import annotations

from nicegui import ui

COMPACT_ON_PHONE = "compact-on-phone"
_PHONE_CSS = "@media (max-width: 599px) { .compact-on-phone th, .compact-on-phone td { padding: 6px 8px; } }"


def compact_on_phone(table: ui.table) -> ui.table:
    """Narrower cell padding on a phone, so the columns shown there fit its width."""
    ui.add_css(_PHONE_CSS)
    return table.classes(COMPACT_ON_PHONE)
