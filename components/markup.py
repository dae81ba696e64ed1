"""Text that does not change once drawn, as one element instead of one per label, row and icon.

Each NiceGUI element holds about 4 KB on the server for as long as its page is open; a card's title
row, its figures and its label/value rows are drawn once and only ever replaced as a whole, so they
need no element each. ``Markup`` writes the same HTML those elements would have (NiceGUI's row and
column classes, Quasar's icon), escaped, inside a wrapper that takes no part in the layout
(``display: contents``): the page looks the same. Anything that reacts (a button, a link) stays an
element of its own.
"""

from __future__ import annotations

from html import escape

from nicegui import ui


class Markup(ui.html):
    """Pieces made by ``icon``, ``text``, ``row`` and ``column``; ``texts`` are the words it shows, for
    finding it the way a label is found (``ElementFilter``, the User fixture's ``should_see``)."""

    def __init__(self, *pieces: str, texts: list[str]) -> None:
        super().__init__("".join(pieces), sanitize=False)  # every text in it was escaped by ``text``
        self.style("display: contents")
        self._texts = texts

    def _displayed_contents(self, *, only_visible: bool) -> list[object]:
        return [*super()._displayed_contents(only_visible=only_visible), *self._texts]


def icon(name: str, classes: str = "") -> str:
    """What Quasar renders for ``ui.icon(name)`` (a Material icon's name is plain letters and '_')."""
    return (
        f'<i class="q-icon notranslate material-icons {classes}" aria-hidden="true" role="presentation">'
        f"{escape(name)}</i>"
    )


def text(value: str, classes: str = "", style: str = "") -> str:
    """A ``ui.label``."""
    styled = f' style="{escape(style)}"' if style else ""
    return f'<div class="{classes}"{styled}>{escape(value)}</div>'


def row(classes: str, *children: str) -> str:
    """A ``ui.row``."""
    return f'<div class="nicegui-row {classes}">{"".join(children)}</div>'


def heading(value: str, classes: str = "", *, level: int = 2) -> str:
    """A heading (``components.headings``): a card's title, a section of the page under its ``h1``."""
    return f'<h{level} class="{classes}">{escape(value)}</h{level}>'


def column(classes: str, *children: str) -> str:
    """A ``ui.column``."""
    return f'<div class="nicegui-column {classes}">{"".join(children)}</div>'
