"""A dialog that asks before a step that cannot be taken back (Send, Void, Revoke ...)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nicegui import ui

from components.headings import dialog_title
from services.i18n import _


def confirmation(
    title: str, text: str, action: str, on_confirm: Callable[[], Awaitable[None]], *, color: str = "primary"
) -> ui.dialog:
    """``title`` and ``text``, Cancel, and the ``action`` button that closes it and calls ``on_confirm``."""
    with ui.dialog() as dialog, ui.card().classes("w-full max-w-md gap-4"):
        dialog_title(dialog, title)
        ui.label(text).classes("text-sm text-grey-9")
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button(_("Cancel"), on_click=dialog.close).props("flat no-caps")

            async def confirm() -> None:
                dialog.close()
                await on_confirm()

            ui.button(action, on_click=confirm).props(f"unelevated no-caps color={color}")
    return dialog
