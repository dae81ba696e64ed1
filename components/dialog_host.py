"""A place on the page for dialogs made on demand (from a click), replacing the previous one.

A dialog built inside an event handler would otherwise land on the client's root element, outside
the page's layout, and every click would leave another one behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from nicegui import ui


class DialogHost:
    def __init__(self) -> None:
        self.container = ui.element("div")

    def show(self, build: Callable[[], Any]) -> None:
        """Build a dialog (``build`` returns an object with a ``dialog``, or a ``ui.dialog``) and open it."""
        self.container.clear()
        with self.container:
            made = build()
        dialog = made if isinstance(made, ui.dialog) else made.dialog
        dialog.open()

    async def show_loaded(self, build: Callable[[], Awaitable[Any]]) -> None:
        """Like ``show``, for a dialog that first loads what it shows."""
        self.container.clear()
        with self.container:
            made = await build()
        dialog = made if isinstance(made, ui.dialog) else made.dialog
        dialog.open()
