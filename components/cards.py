"""Cards for figures and details on the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from nicegui import ui

from components import markup
from components.markup import Markup

ROWS_COLUMNS = "grid-template-columns: minmax(7rem, auto) 1fr"  # label, value


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
        Markup(
            markup.row(
                "items-center gap-2 text-grey-7 no-wrap",
                markup.icon(icon, "text-xl text-primary"),
                markup.heading(title, "text-sm font-medium uppercase tracking-wide"),
            ),
            markup.text(amount, "text-3xl font-semibold text-grey-10 figure-amount"),
            markup.text(note, "text-sm text-grey-7") if note else "",
            texts=[title, amount, note],
        )
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
        heading = [
            markup.icon(icon, "text-xl text-primary"),
            markup.heading(title, "text-lg font-semibold flex-1"),
        ]
        if edit is None:
            Markup(markup.row("w-full items-center gap-2 no-wrap", *heading), texts=[title])
        else:
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                Markup(*heading, texts=[title])
                ui.button(icon="edit", on_click=edit).props(
                    f'flat round dense aria-label="{edit_label}"'
                ).classes("text-grey-7").mark(edit_label.lower().replace(" ", "-"))
        shown = [(label, lines) for label, value in rows if any(lines := _lines(value))]
        Markup(
            f'<div class="nicegui-grid w-full gap-x-4 gap-y-2 text-sm" style="{ROWS_COLUMNS}">',
            *(
                markup.text(label, "text-grey-7")
                + markup.column(
                    "gap-0 min-w-0",
                    *(
                        markup.text(line, "text-grey-10 break-words", "overflow-wrap: anywhere")
                        for line in lines
                    ),
                )
                for label, lines in shown
            ),
            "</div>",
            texts=[part for label, lines in shown for part in (label, *lines)],
        )
    if test_id:
        card.props(f"data-testid={test_id}")
    return card


def _lines(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]
