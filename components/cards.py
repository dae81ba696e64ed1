"""Cards for figures and details on the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from nicegui import ui


def figure_card(
    title: str,
    amount: str,
    *,
    icon: str,
    note: str = "",
    test_id: str = "",
    actions: Sequence[tuple[str, Callable[[], Any]]] = (),
) -> None:
    """A headline figure: a label, a large amount, a line of explanation and buttons (label, handler)."""
    with ui.card().classes("w-full gap-1 p-5").props("flat bordered") as card:
        with ui.row().classes("items-center gap-2 text-grey-7 no-wrap"):
            ui.icon(icon).classes("text-xl text-primary")
            ui.label(title).classes("text-sm font-medium uppercase tracking-wide")
        ui.label(amount).classes("text-3xl font-semibold text-grey-10 figure-amount")
        if note:
            ui.label(note).classes("text-sm text-grey-7")
        if actions:
            with ui.row().classes("mt-2 gap-2"):
                for index, (label, handler) in enumerate(actions):
                    style = "unelevated no-caps" if index == 0 else "outline no-caps"
                    ui.button(label, on_click=handler).props(style)
    if test_id:
        card.props(f"data-testid={test_id}")


def detail_card(
    title: str,
    rows: Iterable[tuple[str, str | list[str]]],
    *,
    icon: str,
    edit: Callable[[], Any] | None = None,
    edit_label: str = "",
    test_id: str = "",
) -> ui.card:
    """A titled card of label/value pairs; a list value prints one line each (addresses).

    ``edit`` puts a pencil beside the title (``edit_label`` names it for screen readers and tests).
    The card is returned so the caller can add buttons below the rows.
    """
    with ui.card().classes("w-full gap-3 p-5").props("flat bordered") as card:
        with ui.row().classes("w-full items-center gap-2 no-wrap"):
            ui.icon(icon).classes("text-xl text-primary")
            ui.label(title).classes("text-lg font-semibold flex-1")
            if edit is not None:
                ui.button(icon="edit", on_click=edit).props(
                    f'flat round dense aria-label="{edit_label}"'
                ).classes("text-grey-7").mark(edit_label.lower().replace(" ", "-"))
        with ui.grid(columns="minmax(7rem, auto) 1fr").classes("w-full gap-x-4 gap-y-2 text-sm"):
            for label, value in rows:
                lines = value if isinstance(value, list) else [value]
                if not any(lines):
                    continue
                ui.label(label).classes("text-grey-7")
                with ui.column().classes("gap-0 min-w-0"):
                    for line in lines:
                        ui.label(line).classes("text-grey-10 break-words").style("overflow-wrap: anywhere")
    if test_id:
        card.props(f"data-testid={test_id}")
    return card
