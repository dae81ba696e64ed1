"""Cards for figures and details on the dashboard."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from nicegui import ui

from components import markup
from components.markup import Markup

ROWS_COLUMNS = "grid-template-columns: minmax(7rem, auto) 1fr"  # label, value
# A long word wraps where it must rather than overflow a phone's screen; an address wraps between its parts
# first (markup.breakable), and only a single part too long for the line is cut.
VALUE_CLASSES = "text-grey-10 break-words"
VALUE_STYLE = "overflow-wrap: anywhere"
# What Quasar renders for ``ui.card().props("flat bordered")``: a card with nothing to press is markup.
CARD = "q-card q-card--bordered q-card--flat no-shadow nicegui-card"


@dataclass(frozen=True)
class Link:
    """A detail shown as a link: an e-mail address (``mailto:``), a phone number (``tel:``), a website
    (``new_tab``: opened in a tab of its own, ``new_tab_note`` saying so to screen readers)."""

    text: str
    href: str
    new_tab: bool = False
    new_tab_note: str = ""


Detail = str | list[str] | Link


def figure_card(
    title: str,
    amount: str,
    *,
    icon: str,
    note: str = "",
    test_id: str = "",
    actions: Sequence[tuple[str, Callable[[], Any]]] = (),
    links: Sequence[tuple[str, str]] = (),
) -> None:
    """A headline figure: a label, a large amount, a line of explanation, links (text, address) to what
    makes it up, and buttons (label, handler)."""
    figures = (
        markup.row(
            "items-center gap-2 text-grey-7 no-wrap",
            markup.icon(icon, "text-xl text-primary"),
            markup.heading(title, "text-sm font-medium uppercase tracking-wide"),
        ),
        markup.text(amount, "text-3xl font-semibold text-grey-10 figure-amount"),
        markup.text(note, "text-sm text-grey-7") if note else "",
        *(markup.column("text-sm", markup.link(text, href, "text-primary")) for text, href in links),
    )
    texts = [title, amount, note, *(text for text, _href in links)]
    if not actions:  # nothing to press: the card itself is markup too
        tested = f' data-testid="{escape(test_id)}"' if test_id else ""
        Markup(f'<div class="{CARD} w-full gap-1 p-5"{tested}>', *figures, "</div>", texts=texts)
        return
    with ui.card().classes("w-full gap-1 p-5").props("flat bordered") as card:
        Markup(*figures, texts=texts)
        with ui.row().classes("mt-2 gap-2"):
            for index, (label, handler) in enumerate(actions):
                style = "unelevated no-caps" if index == 0 else "outline no-caps"
                ui.button(label, on_click=handler).props(style)
    if test_id:
        card.props(f"data-testid={test_id}")


def detail_card(
    title: str,
    rows: Iterable[tuple[str, Detail]],
    *,
    icon: str,
    edit: Callable[[], Any] | None = None,
    edit_label: str = "",
    test_id: str = "",
) -> ui.card:
    """A titled card of label/value pairs; a list value prints one line each (addresses), a ``Link`` is
    a link.

    ``edit`` puts a pencil beside the title (``edit_label`` names it for screen readers and tests).
    The card is returned so the caller can add buttons below the rows.
    """
    with ui.card().classes("w-full gap-3 p-5").props("flat bordered") as card:
        heading = [
            markup.icon(icon, "text-xl text-primary"),
            markup.heading(title, "text-lg font-semibold flex-1"),
        ]
        if edit is not None:
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                Markup(*heading, texts=[title])
                ui.button(icon="edit", on_click=edit).props(
                    f'flat round dense aria-label="{edit_label}"'
                ).classes("text-grey-7").mark(edit_label.lower().replace(" ", "-"))
        shown = [(label, lines) for label, value in rows if any(lines := _lines(value))]
        Markup(
            "" if edit is not None else markup.row("w-full items-center gap-2 no-wrap", *heading),
            f'<div class="nicegui-grid w-full gap-x-4 gap-y-2 text-sm" style="{ROWS_COLUMNS}">',
            *(
                markup.text(label, "text-grey-7")
                + markup.column(
                    "gap-0 min-w-0",
                    *(_value(line) for line in lines),
                )
                for label, lines in shown
            ),
            "</div>",
            texts=[
                *([] if edit is not None else [title]),
                *(part for label, lines in shown for part in (label, *map(_text, lines))),
            ],
        )
    if test_id:
        card.props(f"data-testid={test_id}")
    return card


def _lines(value: Detail) -> list[str] | list[Link]:
    if isinstance(value, Link):
        return [value] if value.text else []
    return value if isinstance(value, list) else [value]


def _value(line: str | Link) -> str:
    if isinstance(line, str):
        return markup.text(line, VALUE_CLASSES, VALUE_STYLE, addresses=True)
    anchor = markup.link(
        line.text, line.href, "text-primary", new_tab=line.new_tab, new_tab_note=line.new_tab_note
    )
    return f'<div class="{VALUE_CLASSES}" style="{VALUE_STYLE}">{anchor}</div>'


def _text(line: str | Link) -> str:
    return line if isinstance(line, str) else line.text
